//! Stage 3 on the CPU, twin of `shaders/ase_transport.wgsl`: every packet moved to the
//! step's end with its cells' gain (`photons::advance`), in fixed chunks in parallel
//! merged in chunk order, so the result is the same on any number of threads; then
//! the step's exchange settled against what each cell can give and take
//! (`ase::settle`).

use rayon::prelude::*;

use crate::ase::books::{Books, Span};
use crate::ase::photons::{AsePacket, Exchange, StepOutput, StepView, advance};
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;
use crate::ase::tally::{ExitTally, Ledger};

/// Packets per chunk of parallel transport.
const PACKET_CHUNK: usize = 256;

/// Move the books' packets through `span` and settle their exchange; returns the
/// step's load (see `ase::settle::settle_exchange`).
pub fn ase_transport(setup: &AseSetup, film: &Film, books: &mut Books, span: Span) -> f64 {
    let view = StepView {
        setup,
        stim: &film.stim,
        abs: &film.abs,
        cell_excitons: &books.cell_excitons,
    };
    let started = std::time::Instant::now();
    let (exchange, segments) = advance_all(
        &view,
        &mut books.packets,
        span,
        &mut books.record.tally,
        &mut books.record.ledger,
    );
    books.moved(setup, &exchange, segments, started)
}

/// Advance `packets` (the step's list, in order) to the end of `span`, adding what left
/// to `tally` and the photons exchanged, lost and gained to `ledger`. Returns the
/// exchange with the cells (each packet's entries together, one per cell, in the
/// order it met them) and the path segments taken.
pub fn advance_all(
    view: &StepView,
    packets: &mut [AsePacket],
    span: Span,
    tally: &mut ExitTally,
    ledger: &mut Ledger,
) -> (Vec<Exchange>, u64) {
    let setup = view.setup;
    let outputs: Vec<StepOutput> = packets
        .par_chunks_mut(PACKET_CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut out = StepOutput::new(setup);
            for (j, p) in chunk.iter_mut().enumerate() {
                let index = (k * PACKET_CHUNK + j) as u32;
                advance(view, p, index, span.point_step(), span.t1, &mut out);
            }
            out
        })
        .collect();
    let mut exchange = Vec::new();
    let mut segments = 0;
    for out in outputs {
        tally.merge(&out.tally);
        ledger.merge(&out.ledger);
        segments += out.segments;
        exchange.extend(out.exchange);
    }
    (exchange, segments)
}
