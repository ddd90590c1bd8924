//! Stage 1b on the CPU, twin of `shaders/platelet_decay.wgsl`: the loss events within
//! the step (non-radiative and Auger, exact continuous-time events; only the cells
//! where one falls due are visited) and the whole sampled excitons of each cell's
//! pending radiative decay booked against its platelets, each on its own stream, so
//! that how packets are sampled never changes the kinetics.

use rayon::prelude::*;

use crate::ase::books::{Books, Span};
use crate::ase::kinetics::Loss;
use crate::ase::platelets::{Film, GainFollower, loss_events};
use crate::ase::setup::AseSetup;
use crate::ase::spontaneous;
use crate::ase::tally::Ledger;
use crate::rng::{Purpose, Stream};

/// The loss events and radiative bookings of `span`; the books' `cell_excitons` become
/// what the cells then hold.
pub fn platelet_decay(setup: &AseSetup, film: &mut Film, books: &mut Books, span: Span) {
    if !setup.frozen {
        let s = setup.samples_per_cell;
        let bins = setup.spectrum.bins;
        let w = setup.platelet_weight;
        let scale = Film::gain_scale(setup);
        let (point, step, t1) = (span.point, span.step, span.t1);
        let ledgers: Vec<Ledger> = film
            .platelets
            .par_chunks_mut(s)
            .zip(film.stim.par_chunks_mut(bins))
            .zip(film.abs.par_chunks_mut(bins))
            .zip(books.pending_r.par_iter_mut())
            .zip(books.summaries.par_iter_mut())
            .zip(books.emission.par_iter())
            .enumerate()
            .map(
                |(c, (((((platelets, stim), abs), pending), summary), &emission))| {
                    let mut gain = GainFollower::spectra(stim, abs);
                    let mut led = Ledger::default();
                    // Only where a loss event falls due are the cell's platelets visited,
                    // and the earliest next event noted again.
                    if summary.next_ps < t1 {
                        summary.next_ps = loss_events(
                            setup,
                            platelets,
                            c * s,
                            (point, step),
                            t1,
                            |j, loss, before, after| {
                                match loss {
                                    Loss::NonRadiative => led.nonradiative += w,
                                    Loss::Auger => led.auger += w,
                                }
                                summary.excitons -= 1;
                                if after.n < setup.optics.degeneracy {
                                    summary.room += 1;
                                }
                                gain.changed(setup, j, before, after, scale);
                            },
                        );
                    }
                    *pending += emission;
                    let mut rng =
                        Stream::new(setup.seed, Purpose::Radiative, point, step, c as u32);
                    summary.add(spontaneous::book_radiative(
                        setup, platelets, &mut gain, pending, scale, t1, &mut rng,
                    ));
                    led
                },
            )
            .collect();
        for led in &ledgers {
            books.record.ledger.merge(led);
        }
    }
    books.cell_excitons = books.held(setup);
}
