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

/// Weights with O(log n) updates and sampling proportional to weight (a Fenwick tree
/// of partial sums).
struct WeightTree {
    weights: Vec<f64>,
    tree: Vec<f64>,
}

impl WeightTree {
    fn new(weights: Vec<f64>) -> Self {
        let n = weights.len();
        let mut tree = vec![0.0; n + 1];
        for (i, w) in weights.iter().enumerate() {
            let mut k = i + 1;
            while k <= n {
                tree[k] += w;
                k += k & k.wrapping_neg();
            }
        }
        Self { weights, tree }
    }

    fn set(&mut self, i: usize, w: f64) {
        let delta = w - self.weights[i];
        self.weights[i] = w;
        let mut k = i + 1;
        while k < self.tree.len() {
            self.tree[k] += delta;
            k += k & k.wrapping_neg();
        }
    }

    fn total(&self) -> f64 {
        let mut k = self.weights.len();
        let mut sum = 0.0;
        while k > 0 {
            sum += self.tree[k];
            k -= k & k.wrapping_neg();
        }
        sum
    }

    /// The index whose cumulative weight interval holds `x` (0 ≤ x < total), moved to
    /// the nearest positive weight if rounding lands on a zero one.
    fn find(&self, mut x: f64) -> Option<usize> {
        let n = self.weights.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= x {
                pos = next;
                x -= self.tree[next];
            }
            step >>= 1;
        }
        let i = pos.min(n - 1);
        if self.weights[i] > 0.0 {
            return Some(i);
        }
        (0..i)
            .rev()
            .chain(i + 1..n)
            .find(|&j| self.weights[j] > 0.0)
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
        p.next_ps = next_event(t_now, setup.kinetics.total_rate(p.n, false), rng);
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
