//! Booking the photons a step's packets gained or lost against the platelets of each
//! cell: stimulated emission removes excitons from the cell's resonant excited
//! platelets, absorption creates them, each spread over the platelets in proportion to
//! their share of the cell's stimulated (absorption) rate in that spectral bin.
//!
//! Sampled platelets hold whole excitons, each standing for `platelet_weight` real
//! ones. Photons are accumulated per (cell, bin) and booked as whole sampled excitons;
//! the remainder waits for the next step (and is in the ledger as pending).

use super::platelets::{CellGain, Platelet, next_event};
use super::setup::{AseSetup, Optics};
use super::tally::Ledger;
use super::weight_tree::WeightTree;
use crate::rng::Stream;

/// Whole sampled excitons moved one at a time on a cell's platelets, each on a platelet
/// drawn in proportion to a weight that follows its count (Fenwick tree). Every moved
/// platelet's next loss time is redrawn at once; the cell's gain spectra are brought up
/// to date once, in `finish`, from each platelet's count before and after.
pub struct Booking<'p> {
    platelets: &'p mut [Platelet],
    before: Vec<Platelet>,
}

impl<'p> Booking<'p> {
    pub fn new(platelets: &'p mut [Platelet]) -> Self {
        let before = platelets.to_vec();
        Self { platelets, before }
    }

    /// Move `count` excitons by `step` (−1 removes, +1 adds), each on a platelet drawn in
    /// proportion to `weight`, at time `t_now`; returns how many could not be moved
    /// because every weight was zero.
    pub fn moves(
        &mut self,
        setup: &AseSetup,
        mut count: u64,
        step: i32,
        weight: impl Fn(&Platelet) -> f64,
        t_now: f64,
        rng: &mut Stream,
    ) -> u64 {
        let mut tree = WeightTree::new(self.platelets.iter().map(&weight).collect());
        while count > 0 {
            let total = tree.total();
            if total <= 0.0 {
                break;
            }
            let Some(chosen) = tree.find(rng.uniform() * total) else {
                break;
            };
            let p = &mut self.platelets[chosen];
            p.n = p.n.saturating_add_signed(step);
            p.next_ps = next_event(t_now, setup.kinetics.loss_rate(p.n, false), rng);
            tree.set(chosen, weight(p));
            count -= 1;
        }
        count
    }

    /// Update the cell's gain spectra for every platelet whose count changed.
    pub fn finish(self, setup: &AseSetup, gain: &mut CellGain, scale: f64) {
        for (before, after) in self.before.iter().zip(self.platelets.iter()) {
            if before.n != after.n {
                gain.change(
                    &setup.optics,
                    &setup.spectrum.energy_ev,
                    before,
                    after,
                    scale,
                );
            }
        }
    }
}

/// A platelet's σ/σ₀ at a photon energy: (optics, E_i, n, E).
type Share = fn(&Optics, f64, u32, f64) -> f64;

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
    let optics = &setup.optics;
    // Stimulated emission removes excitons in proportion to σ_e, absorption adds them in
    // proportion to σ_a.
    let directions: [(i32, Share); 2] = [(-1, Optics::stimulated), (1, Optics::absorbing)];
    let mut booking = Booking::new(platelets);
    for b in 0..setup.spectrum.bins {
        let e = setup.spectrum.energy_ev[b];
        let pending = [&mut pending_s[b], &mut pending_a[b]];
        let unbooked = [
            &mut ledger.unbooked_stimulated,
            &mut ledger.unbooked_absorbed,
        ];
        for ((pending, unbooked), (step, share)) in
            pending.into_iter().zip(unbooked).zip(directions)
        {
            let whole = (*pending / w).floor();
            if whole < 1.0 {
                continue;
            }
            *pending -= whole * w;
            let left = booking.moves(
                setup,
                whole as u64,
                step,
                |p| share(optics, p.energy_ev, p.n, e),
                t_now,
                rng,
            );
            *unbooked += left as f64 * w;
        }
    }
    booking.finish(setup, gain, scale);
}
