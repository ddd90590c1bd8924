//! Booking the photons a step's packets gained or lost against the platelets of each
//! cell: stimulated emission removes excitons from the cell's resonant excited
//! platelets, absorption creates them, each spread over the platelets in proportion to
//! their share of the cell's stimulated (absorption) rate in that spectral bin.
//!
//! Sampled platelets hold whole excitons, each standing for `platelet_weight` real
//! ones. Photons are accumulated per (cell, bin) and booked as whole sampled excitons;
//! the remainder waits for the next step (and is in the ledger as pending). Each
//! exciton's platelet is drawn by rejection against the bound σ/σ₀ ≤ 1, so a draw
//! evaluates a few platelets' cross sections rather than all of the cell's.

use super::platelets::{GainFollower, Platelet, next_event};
use super::setup::{AseSetup, Optics};
use super::tally::Ledger;
use super::weight_tree::WeightTree;
use crate::rng::Stream;

/// Whole sampled excitons moved one at a time on a cell's platelets, each on a platelet
/// drawn in proportion to a weight that follows its count (by rejection, or from a
/// Fenwick tree). Every moved platelet's next loss time is redrawn at once; the cell's
/// gain spectra are brought up to date once, in `finish`, from each moved platelet's
/// count before and after.
pub struct Booking<'p> {
    platelets: &'p mut [Platelet],
    /// Every platelet's count before the first move (none until then).
    before: Option<Vec<u32>>,
    moved: Moved,
}

/// What a booking did to a cell's platelets: the change of their exciton total and of
/// their room for more (Σ max(0, g_d − n)), and the earliest next loss time it drew
/// (infinite when it drew none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moved {
    pub excitons: i64,
    pub room: i64,
    pub earliest_ps: f64,
}

impl Moved {
    pub const NOTHING: Self = Self {
        excitons: 0,
        room: 0,
        earliest_ps: f64::INFINITY,
    };
}

impl<'p> Booking<'p> {
    pub fn new(platelets: &'p mut [Platelet]) -> Self {
        Self {
            platelets,
            before: None,
            moved: Moved::NOTHING,
        }
    }

    /// Move platelet `i` by `step` at time `t_now`, redrawing its next loss time.
    fn shift(&mut self, setup: &AseSetup, i: usize, step: i32, t_now: f64, rng: &mut Stream) {
        if self.before.is_none() {
            self.before = Some(self.platelets.iter().map(|p| p.n).collect());
        }
        let p = &mut self.platelets[i];
        let n = p.n;
        p.n = p.n.saturating_add_signed(step);
        p.next_ps = next_event(t_now, setup.kinetics.loss_rate(p.n, false), rng);
        let g_d = setup.optics.degeneracy;
        self.moved.excitons += i64::from(p.n) - i64::from(n);
        self.moved.room += i64::from(g_d.saturating_sub(p.n)) - i64::from(g_d.saturating_sub(n));
        self.moved.earliest_ps = self.moved.earliest_ps.min(p.next_ps);
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
            self.shift(setup, chosen, step, t_now, rng);
            tree.set(chosen, weight(&self.platelets[chosen]));
            count -= 1;
        }
        count
    }

    /// As [`Booking::moves`], for a `weight` never above `bound`: each platelet is
    /// drawn by rejection (a uniform proposal accepted with probability
    /// weight/bound), which evaluates a handful of weights where building the tree
    /// evaluates all of them. Once the proposals reach the number of platelets (as
    /// many evaluations as the tree costs: many moves, or weights far below the bound
    /// or all zero) the remaining moves are drawn with the tree. Either way each move
    /// is drawn in proportion to `weight`.
    #[allow(clippy::too_many_arguments)]
    pub fn moves_bounded(
        &mut self,
        setup: &AseSetup,
        mut count: u64,
        step: i32,
        weight: impl Fn(&Platelet) -> f64,
        bound: f64,
        t_now: f64,
        rng: &mut Stream,
    ) -> u64 {
        let s = self.platelets.len();
        let mut proposals = 0;
        while count > 0 {
            if proposals >= s {
                return self.moves(setup, count, step, weight, t_now, rng);
            }
            proposals += 1;
            let i = ((rng.uniform() * s as f64) as usize).min(s - 1);
            if rng.uniform() * bound >= weight(&self.platelets[i]) {
                continue;
            }
            self.shift(setup, i, step, t_now, rng);
            count -= 1;
        }
        0
    }

    /// Tell `gain` of every platelet whose count changed; returns what the booking did.
    pub fn finish(self, setup: &AseSetup, gain: &mut GainFollower, scale: f64) -> Moved {
        let Some(before) = self.before else {
            return self.moved;
        };
        for (j, (after, n_before)) in self.platelets.iter().zip(before).enumerate() {
            if after.n != n_before {
                let before = Platelet {
                    n: n_before,
                    ..*after
                };
                gain.changed(setup, j, &before, after, scale);
            }
        }
        self.moved
    }
}

/// What an [`Order`] books on a cell's platelets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum OrderKind {
    /// Stimulated emission: one exciton less, on a platelet drawn in proportion to σ_e.
    Stimulated = 0,
    /// Absorption: one exciton more, in proportion to σ_a.
    Absorbed = 1,
    /// Radiative decay: one exciton less, in proportion to the count.
    Radiative = 2,
}

/// `count` whole sampled excitons to move on a cell's platelets, one at a time, as
/// [`apply_cell`] moves those of the photons at `energy_ev` (stimulated emission or
/// absorption) and [`crate::ase::spontaneous::book_radiative`] those of radiative decay:
/// what the engine asks of platelets kept on a device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    pub kind: OrderKind,
    pub energy_ev: f64,
    pub count: u32,
}

/// A platelet's σ/σ₀ at a photon energy: (optics, E_i, n, E).
type Share = fn(&Optics, f64, u32, f64) -> f64;

/// Book a cell's accumulated exchange (`pending_s`, `pending_a` per bin, real photons)
/// at time `t_now`, leaving the sub-exciton remainders in place; `gain` follows the
/// counts. Returns what the booking did to the platelets.
#[allow(clippy::too_many_arguments)]
pub fn apply_cell(
    setup: &AseSetup,
    platelets: &mut [Platelet],
    gain: &mut GainFollower,
    pending_s: &mut [f64],
    pending_a: &mut [f64],
    scale: f64,
    t_now: f64,
    rng: &mut Stream,
    ledger: &mut Ledger,
) -> Moved {
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
            // σ/σ₀ is a peak-normalised line times a strength of at most 1.
            let left = booking.moves_bounded(
                setup,
                whole as u64,
                step,
                |p| share(optics, p.energy_ev, p.n, e),
                1.0,
                t_now,
                rng,
            );
            *unbooked += left as f64 * w;
        }
    }
    booking.finish(setup, gain, scale)
}
