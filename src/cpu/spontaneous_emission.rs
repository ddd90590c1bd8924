//! Stage 1a on the CPU, twin of `shaders/spontaneous_emission.wgsl`: the step's
//! expected spontaneous emission launched as packets, cell by cell in parallel, each
//! cell on its own stream (Spontaneous, point, step, cell); the packets join the
//! books in cell order.

use rayon::prelude::*;

use crate::ase::books::{Books, Launch, Span};
use crate::ase::photons::AsePacket;
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;
use crate::ase::spontaneous;
use crate::ase::tally::Ledger;
use crate::rng::{Purpose, Stream};

/// Launch the packets of `span` from the platelets' counts at its start.
pub fn spontaneous_emission(setup: &AseSetup, film: &Film, books: &mut Books, span: Span) {
    let launch = Launch::plan(setup, &books.summaries, span);
    let per_cell: Vec<(Vec<AsePacket>, Ledger)> = film
        .platelets
        .par_chunks(setup.samples_per_cell)
        .enumerate()
        .map(|(c, platelets)| {
            let mut born = Vec::new();
            let mut led = Ledger::default();
            let mut rng = Stream::new(
                setup.seed,
                Purpose::Spontaneous,
                span.point,
                span.step,
                c as u32,
            );
            spontaneous::launch(
                setup,
                platelets,
                launch.packets[c],
                launch.packet_weight,
                span.t0,
                span.t1,
                &mut rng,
                &mut born,
                &mut led,
            );
            (born, led)
        })
        .collect();
    for (born, led) in per_cell {
        books.adopt(born, &led);
    }
    books.emission = launch.emission;
}
