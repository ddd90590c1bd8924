//! Stage 4 on the CPU, twin of `shaders/platelet_booking.wgsl`: each cell's pending
//! exchange booked against its platelets as whole sampled excitons, bin by bin
//! (`exchange::apply_cell`), cells in parallel on their own streams (Exchange, point,
//! step, cell); the sub-exciton remainders stay pending.

use rayon::prelude::*;

use crate::ase::books::{Books, Span};
use crate::ase::exchange::apply_cell;
use crate::ase::platelets::{Film, GainFollower};
use crate::ase::setup::AseSetup;
use crate::ase::tally::Ledger;
use crate::rng::{Purpose, Stream};

/// Book the pending exchange of `span` (nothing where the photons' exchange is not
/// booked: uncoupled or frozen runs).
pub fn platelet_booking(setup: &AseSetup, film: &mut Film, books: &mut Books, span: Span) {
    if !setup.coupled || setup.frozen {
        return;
    }
    let s = setup.samples_per_cell;
    let bins = setup.spectrum.bins;
    let w = setup.platelet_weight;
    let scale = Film::gain_scale(setup);
    let booked: Vec<Ledger> = film
        .platelets
        .par_chunks_mut(s)
        .zip(film.stim.par_chunks_mut(bins))
        .zip(film.abs.par_chunks_mut(bins))
        .zip(books.pending_s.par_chunks_mut(bins))
        .zip(books.pending_a.par_chunks_mut(bins))
        .zip(books.summaries.par_iter_mut())
        .enumerate()
        .map(|(c, (((((platelets, stim), abs), ps), pa), summary))| {
            let mut led = Ledger::default();
            if ps.iter().chain(pa.iter()).any(|v| *v >= w) {
                let mut rng = Stream::new(
                    setup.seed,
                    Purpose::Exchange,
                    span.point,
                    span.step,
                    c as u32,
                );
                let moved = apply_cell(
                    setup,
                    platelets,
                    &mut GainFollower::spectra(stim, abs),
                    ps,
                    pa,
                    scale,
                    span.t1,
                    &mut rng,
                    &mut led,
                );
                summary.add(moved);
            }
            led
        })
        .collect();
    for led in &booked {
        books.record.ledger.merge(led);
    }
}
