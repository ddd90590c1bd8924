//! Stage 5 on the CPU, twin of `shaders/tallies.wgsl`: the exits' tallies are summed as
//! the packets leave (in chunk order, `ase_transport`); what is left is the snapshots of
//! populations and gain that fall due by the step's end. Every cell's summary is
//! checked against its platelets first where `setup.check_invariants` asks.

use crate::ase::books::{Books, CellSummary, Span};
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;

/// Check the summaries and take the snapshots due by the end of `span`.
pub fn tallies(setup: &AseSetup, film: &Film, books: &mut Books, span: Span) {
    if setup.check_invariants {
        // Whatever changes a count or a loss time must tell the cell's summary.
        assert!(
            film.platelets
                .chunks(setup.samples_per_cell)
                .zip(&books.summaries)
                .all(|(ps, kept): (&[_], &CellSummary)| kept.holds_for(setup, ps)),
            "a cell's summary disagrees with its platelets at step {}",
            span.step
        );
    }
    while books.snapshot_due(setup, span) {
        books.snapshot(setup, film, span);
    }
}
