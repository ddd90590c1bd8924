//! The sampled platelets: each has a position in its cell, its own transition energy
//! (Gaussian inhomogeneous distribution), an integer exciton count and the time of its
//! next decay, and stands for `platelet_weight` real platelets. Each cell keeps the
//! net gain its platelets give at every wavelength bin, updated whenever a count
//! changes.

use rayon::prelude::*;

use super::kinetics::Loss;
use super::lineshape::standard_normal;
use super::setup::{AseSetup, Optics};
use crate::rng::{Purpose, Stream};

/// One sampled platelet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platelet {
    /// Single-exciton transition energy E_i, eV.
    pub energy_ev: f64,
    /// Excitons held.
    pub n: u32,
    /// Time of the next spontaneous event, ps (infinite when n = 0).
    pub next_ps: f64,
    /// Position, cm.
    pub pos: [f64; 3],
}

/// Largest Poisson mean drawn by inversion in one piece; larger means are split into
/// pieces (a sum of Poisson variables is Poisson), keeping e^{−λ} far from underflow.
const POISSON_PIECE: f64 = 50.0;

/// A Poisson deviate of mean `mean` by inversion.
pub fn poisson(mean: f64, rng: &mut Stream) -> u32 {
    let mut left = mean;
    let mut total = 0;
    while left > 0.0 {
        let lambda = left.min(POISSON_PIECE);
        left -= lambda;
        let mut k = 0;
        let mut p = (-lambda).exp();
        let mut cdf = p;
        let u = rng.uniform();
        while u > cdf && p > 0.0 {
            k += 1;
            p *= lambda / f64::from(k);
            cdf += p;
        }
        total += k;
    }
    total
}

/// An exponential waiting time at `rate` from `now` (infinite at rate 0).
#[inline]
pub fn next_event(now: f64, rate: f64, rng: &mut Stream) -> f64 {
    if rate > 0.0 {
        now - rng.uniform().ln() / rate
    } else {
        f64::INFINITY
    }
}

/// The loss events (non-radiative and Auger) of a cell's platelets before `t1`, as
/// exact continuous-time events: each platelet whose next event falls before `t1` on its
/// own stream (Decay, `point`, `step`, its index in the film; `first` is the index of
/// the cell's first platelet), its next event redrawn after each. `event(j, loss,
/// before, after)` hears of every event, with platelet j before and after it. Returns
/// the earliest next event of the cell's platelets.
pub fn loss_events(
    setup: &AseSetup,
    platelets: &mut [Platelet],
    first: usize,
    (point, step): (u32, u32),
    t1: f64,
    mut event: impl FnMut(usize, Loss, &Platelet, &Platelet),
) -> f64 {
    let mut earliest = f64::INFINITY;
    for (j, p) in platelets.iter_mut().enumerate() {
        if p.next_ps < t1 {
            let mut rng = Stream::new(setup.seed, Purpose::Decay, point, step, (first + j) as u32);
            while p.next_ps < t1 {
                let t = p.next_ps;
                let loss = setup.kinetics.choose(p.n, rng.uniform());
                let before = *p;
                p.n -= 1;
                p.next_ps = next_event(t, setup.kinetics.loss_rate(p.n, false), &mut rng);
                event(j, loss, &before, p);
            }
        }
        earliest = earliest.min(p.next_ps);
    }
    earliest
}

/// The gain spectra of one cell: stimulated emission and absorption, cm⁻¹ per bin.
pub struct CellGain<'a> {
    pub stim: &'a mut [f64],
    pub abs: &'a mut [f64],
}

impl CellGain<'_> {
    /// Add (`sign` = 1) or remove (−1) one platelet's contribution; `scale` = ρσ₀/N_cell.
    pub fn add(&mut self, optics: &Optics, energies: &[f64], p: &Platelet, sign: f64, scale: f64) {
        let k = sign * scale;
        if p.n > 0 {
            let line = optics.emission_energy(p.energy_ev, p.n);
            let f = k * optics.emission_factor(p.n);
            for (g, &e) in self.stim.iter_mut().zip(energies) {
                *g += f * optics.line.phi(e - line);
            }
        }
        if p.n < optics.degeneracy {
            let line = optics.absorption_energy(p.energy_ev, p.n);
            let f = k * optics.absorption_factor(p.n);
            for (g, &e) in self.abs.iter_mut().zip(energies) {
                *g += f * optics.line.phi(e - line);
            }
        }
    }

    /// Replace platelet `before`'s contribution by `after`'s (the same platelet with
    /// another exciton count); nothing to do when both give the same lines, as for
    /// counts at or above the degeneracy.
    pub fn change(
        &mut self,
        optics: &Optics,
        energies: &[f64],
        before: &Platelet,
        after: &Platelet,
        scale: f64,
    ) {
        let lines = |p: &Platelet| {
            (
                optics.emission_energy(p.energy_ev, p.n),
                if p.n > 0 {
                    optics.emission_factor(p.n)
                } else {
                    0.0
                },
                optics.absorption_energy(p.energy_ev, p.n),
                if p.n < optics.degeneracy {
                    optics.absorption_factor(p.n)
                } else {
                    0.0
                },
            )
        };
        if lines(before) == lines(after) {
            return;
        }
        self.add(optics, energies, before, -1.0, scale);
        self.add(optics, energies, after, 1.0, scale);
    }

    /// Recompute from scratch (clears rounding drift of the incremental updates).
    pub fn recompute(
        &mut self,
        optics: &Optics,
        energies: &[f64],
        platelets: &[Platelet],
        scale: f64,
    ) {
        self.stim.fill(0.0);
        self.abs.fill(0.0);
        for p in platelets {
            self.add(optics, energies, p, 1.0, scale);
        }
    }
}

/// A logged change of a platelet's count: its index in its cell and its count before.
pub type LoggedChange = (u32, u32);

/// What follows the counts of a cell's platelets as they change: the cell's gain
/// spectra, or a log of the changes (each platelet's index and count before).
pub enum GainFollower<'a> {
    Spectra(CellGain<'a>),
    Log(&'a mut Vec<LoggedChange>),
}

impl<'a> GainFollower<'a> {
    /// The cell's spectra `stim` and `abs`, kept up to date.
    pub fn spectra(stim: &'a mut [f64], abs: &'a mut [f64]) -> Self {
        Self::Spectra(CellGain { stim, abs })
    }

    /// Platelet `j` of the cell went from `before` to `after` (the same platelet).
    pub fn changed(
        &mut self,
        setup: &AseSetup,
        j: usize,
        before: &Platelet,
        after: &Platelet,
        scale: f64,
    ) {
        match self {
            Self::Spectra(gain) => gain.change(
                &setup.optics,
                &setup.spectrum.energy_ev,
                before,
                after,
                scale,
            ),
            Self::Log(log) => log.push((j as u32, before.n)),
        }
    }
}

/// All sampled platelets (cell c holds `[c·S, (c+1)·S)`) and the cells' gain spectra.
pub struct Film {
    pub platelets: Vec<Platelet>,
    /// cells × bins, cm⁻¹.
    pub stim: Vec<f64>,
    pub abs: Vec<f64>,
}

impl Film {
    /// Sample every platelet and excite it with the pump: n ~ Poisson(⟨N⟩(position)).
    pub fn sample(setup: &AseSetup, point: u32) -> Self {
        let s = setup.samples_per_cell;
        let bins = setup.spectrum.bins;
        let cells = setup.grid.cells();
        let size = setup.grid.size();
        let mut platelets = vec![
            Platelet {
                energy_ev: 0.0,
                n: 0,
                next_ps: f64::INFINITY,
                pos: [0.0; 3],
            };
            cells * s
        ];
        platelets
            .par_chunks_mut(s)
            .enumerate()
            .for_each(|(c, chunk)| {
                let corner = setup.grid.corner(setup.grid.coords_of_index(c));
                for (j, p) in chunk.iter_mut().enumerate() {
                    let index = (c * s + j) as u32;
                    let mut rng = Stream::new(setup.seed, Purpose::Platelets, point, 0, index);
                    p.pos = [0, 1, 2].map(|k| corner[k] + rng.uniform() * size[k]);
                    p.energy_ev = setup.optics.mean_energy_ev
                        + setup.optics.inhomogeneous_sigma_ev * standard_normal(&mut rng);
                    p.n = poisson(setup.pump.mean_at(p.pos), &mut rng);
                    p.next_ps =
                        next_event(0.0, setup.kinetics.loss_rate(p.n, setup.frozen), &mut rng);
                }
            });
        let mut film = Self {
            platelets,
            stim: vec![0.0; cells * bins],
            abs: vec![0.0; cells * bins],
        };
        film.recompute_gain(setup);
        film
    }

    /// ρσ₀/N_cell: one sampled platelet's share of a cell's gain per unit σ/σ₀.
    pub fn gain_scale(setup: &AseSetup) -> f64 {
        setup.density * setup.optics.sigma0 / setup.samples_per_cell as f64
    }

    /// Recompute every cell's gain spectra from its platelets.
    pub fn recompute_gain(&mut self, setup: &AseSetup) {
        let s = setup.samples_per_cell;
        let bins = setup.spectrum.bins;
        let scale = Self::gain_scale(setup);
        self.stim
            .par_chunks_mut(bins)
            .zip(self.abs.par_chunks_mut(bins))
            .zip(self.platelets.par_chunks(s))
            .for_each(|((stim, abs), platelets)| {
                CellGain { stim, abs }.recompute(
                    &setup.optics,
                    &setup.spectrum.energy_ev,
                    platelets,
                    scale,
                );
            });
    }
}
