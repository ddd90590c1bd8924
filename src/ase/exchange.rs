//! Booking the photons a step's packets gained or lost against the platelets of each
//! cell: stimulated emission removes excitons from the cell's resonant excited
//! platelets, absorption creates them, each spread over the platelets in proportion to
//! their share of the cell's stimulated (absorption) rate in that spectral bin.
//!
//! Sampled platelets hold whole excitons, each standing for `platelet_weight` real
//! ones. Photons are accumulated per (cell, bin) and booked as whole sampled excitons;
//! the remainder waits for the next step (and is in the ledger as pending).

use super::platelets::{CellGain, Platelet, next_event};
use super::setup::AseSetup;
use super::tally::Ledger;
use super::weight_tree::WeightTree;
use crate::rng::Stream;

/// Which way the exchange goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Stimulated,
    Absorbed,
}

/// The share of platelet `p` in a bin at photon energy `e`.
fn share(setup: &AseSetup, p: &Platelet, e: f64, dir: Direction) -> f64 {
    match dir {
        Direction::Stimulated => setup.optics.stimulated(p.energy_ev, p.n, e),
        Direction::Absorbed => setup.optics.absorbing(p.energy_ev, p.n, e),
    }
}

/// Book `count` whole excitons of one bin against a cell's platelets, each to a
/// platelet drawn in proportion to its share; returns how many could not be booked
/// because no platelet could take them.
#[allow(clippy::too_many_arguments)]
fn book(
    setup: &AseSetup,
    platelets: &mut [Platelet],
    gain: &mut CellGain,
    scale: f64,
    e: f64,
    dir: Direction,
    mut count: u64,
    t_now: f64,
    rng: &mut Stream,
) -> u64 {
    let energies = &setup.spectrum.energy_ev;
    let mut tree = WeightTree::new(platelets.iter().map(|p| share(setup, p, e, dir)).collect());
    while count > 0 {
        let total = tree.total();
        if total <= 0.0 {
            break;
        }
        let Some(chosen) = tree.find(rng.uniform() * total) else {
            break;
        };
        let p = &mut platelets[chosen];
        let before = *p;
        match dir {
            Direction::Stimulated => p.n -= 1,
            Direction::Absorbed => p.n += 1,
        }
        gain.change(&setup.optics, energies, &before, p, scale);
        p.next_ps = next_event(t_now, setup.kinetics.loss_rate(p.n, false), rng);
        tree.set(chosen, share(setup, p, e, dir));
        count -= 1;
    }
    count
}

/// Book a cell's accumulated exchange (`pending_s`, `pending_a` per bin, real photons)
/// at time `t_now`, leaving the sub-exciton remainders in place.
#[allow(clippy::too_many_arguments)]
pub fn apply_cell(
    setup: &AseSetup,
    platelets: &mut [Platelet],
    gain: &mut CellGain,
    pending_s: &mut [f64],
    pending_a: &mut [f64],
    scale: f64,
    t_now: f64,
    rng: &mut Stream,
    ledger: &mut Ledger,
) {
    let w = setup.platelet_weight;
    for b in 0..setup.spectrum.bins {
        let e = setup.spectrum.energy_ev[b];
        for (pending, dir) in [
            (&mut pending_s[b], Direction::Stimulated),
            (&mut pending_a[b], Direction::Absorbed),
        ] {
            let whole = (*pending / w).floor();
            if whole < 1.0 {
                continue;
            }
            *pending -= whole * w;
            let left = book(
                setup,
                platelets,
                gain,
                scale,
                e,
                dir,
                whole as u64,
                t_now,
                rng,
            );
            let unbooked = left as f64 * w;
            match dir {
                Direction::Stimulated => ledger.unbooked_stimulated += unbooked,
                Direction::Absorbed => ledger.unbooked_absorbed += unbooked,
            }
        }
    }
}
