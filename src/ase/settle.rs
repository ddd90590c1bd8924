//! Settling a step's exchange: what the packets asked of each cell limited to what its
//! platelets can give and take, the packets (or the exits they took) corrected so that
//! photons and excitons balance exactly, and the rest left pending for the booking.
//! Run on the host for both backends.

use super::books::Books;
use super::photons::{Exchange, Fate};
use super::setup::AseSetup;

/// Limit what the step's packets exchanged with each cell to what its platelets
/// can give (excitons held, less stimulated emission not yet booked) and take
/// (room below g_d, less absorption not yet booked). Where the packets asked for more,
/// every exchange with the cell is scaled down and the packets' weights (or, for
/// packets that already left, their exit tallies) corrected, so photons and excitons
/// balance exactly; the rest is added to the pending exchange. Returns the step's
/// load: the largest share of a cell's supply (or room) that the packets asked for.
pub fn settle_exchange(setup: &AseSetup, books: &mut Books, exchange: &[Exchange]) -> f64 {
    let bins = setup.spectrum.bins;
    let w = setup.platelet_weight;
    let cells = setup.grid.cells();
    let mut demand_s = vec![0.0; cells];
    let mut demand_a = vec![0.0; cells];
    for e in exchange {
        let c = e.cell_bin as usize / bins;
        demand_s[c] += e.stimulated;
        demand_a[c] += e.absorbed;
    }
    let factor = |demand: f64, supply: f64| {
        if demand > supply {
            (supply / demand).max(0.0)
        } else {
            1.0
        }
    };
    let mut k_s = vec![1.0; cells];
    let mut k_a = vec![1.0; cells];
    let mut load = 0.0f64;
    for c in 0..cells {
        if demand_s[c] > 0.0 {
            let owed: f64 = books.pending_s[c * bins..(c + 1) * bins].iter().sum();
            let supply = books.cell_excitons[c] - owed;
            load = load.max(demand_s[c] / supply.max(w));
            k_s[c] = factor(demand_s[c], supply);
        }
        if demand_a[c] > 0.0 {
            let room = books.summaries[c].room as f64 * w;
            let owed: f64 = books.pending_a[c * bins..(c + 1) * bins].iter().sum();
            load = load.max(demand_a[c] / (room - owed).max(w));
            k_a[c] = factor(demand_a[c], room - owed);
        }
    }
    // A packet's entries are contiguous, one per cell, in the order it met the cells.
    for run in exchange.chunk_by(|a, b| a.packet == b.packet) {
        let mut entries: Vec<(usize, f64, f64)> = run
            .iter()
            .map(|e| {
                let cb = e.cell_bin as usize;
                (
                    cb,
                    k_s[cb / bins] * e.stimulated,
                    k_a[cb / bins] * e.absorbed,
                )
            })
            .collect();
        let cut_s: f64 = run
            .iter()
            .zip(&entries)
            .map(|(e, x)| e.stimulated - x.1)
            .sum();
        let cut_a: f64 = run
            .iter()
            .zip(&entries)
            .map(|(e, x)| e.absorbed - x.2)
            .sum();
        if cut_s != 0.0 || cut_a != 0.0 {
            correct_packet(books, run[0].packet as usize, &mut entries, cut_s, cut_a);
        }
        for (cb, stimulated, absorbed) in entries {
            books.pending_s[cb] += stimulated;
            books.pending_a[cb] += absorbed;
        }
    }
    load
}

/// Packet `index` had `cut_s` of its stimulated and `cut_a` of its absorbed photons cut
/// (its `entries` as settled): give it (or the exit it took) the difference.
fn correct_packet(
    books: &mut Books,
    index: usize,
    entries: &mut [(usize, f64, f64)],
    cut_s: f64,
    cut_a: f64,
) {
    let record = &mut books.record;
    let ledger = &mut record.ledger;
    ledger.stimulated -= cut_s;
    ledger.absorbed -= cut_a;
    let delta = cut_a - cut_s;
    let p = &mut books.packets[index];
    match p.fate {
        Fate::Alive => {
            p.weight += delta;
            // Photons the packet lost the gain of cannot have been absorbed further
            // along its path: take them back from the cells it met last.
            for x in entries.iter_mut().rev() {
                if p.weight >= 0.0 {
                    break;
                }
                let back = x.2.min(-p.weight);
                x.2 -= back;
                ledger.absorbed -= back;
                p.weight += back;
            }
            if p.weight < 0.0 {
                ledger.clamped -= p.weight;
                p.weight = 0.0;
            }
        }
        Fate::Exited(exit) => {
            record.tally.add(exit, p.bin as usize, p.time_ps, delta);
            ledger.exits[exit as usize] += delta;
        }
        Fate::Killed => ledger.roulette_net -= delta,
    }
}
