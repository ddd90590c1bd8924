//! Exciton kinetics of one platelet: radiative n·k_r, non-radiative n·k_nr and Auger
//! k_A(n) rates, and the continuous-time (Gillespie) choice of the next event.

use crate::config::{AugerScaling, Platelets};

/// Decay rates, ps⁻¹.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kinetics {
    pub k_rad: f64,
    pub k_nonrad: f64,
    /// Biexciton Auger rate k_XX = 1/τ_XX.
    pub k_xx: f64,
    pub auger: AugerScaling,
}

/// What a platelet's next event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    Radiative,
    NonRadiative,
    Auger,
}

impl Kinetics {
    pub fn from_config(p: &Platelets) -> Self {
        Self {
            k_rad: 1.0 / p.radiative_lifetime_ps,
            k_nonrad: p.nonradiative_lifetime_ps.map_or(0.0, |t| 1.0 / t),
            k_xx: 1.0 / p.biexciton_lifetime_ps,
            auger: p.auger_scaling,
        }
    }

    /// Auger rate of a platelet holding n excitons (removes one exciton, no photon).
    pub fn auger_rate(&self, n: u32) -> f64 {
        let n = f64::from(n);
        match self.auger {
            AugerScaling::Bimolecular => self.k_xx * n * (n - 1.0) / 2.0,
            AugerScaling::Cubic => self.k_xx * n * n * (n - 1.0) / 4.0,
        }
    }

    /// (radiative, non-radiative, Auger) rates at n excitons, ps⁻¹.
    pub fn rates(&self, n: u32) -> (f64, f64, f64) {
        let nf = f64::from(n);
        (nf * self.k_rad, nf * self.k_nonrad, self.auger_rate(n))
    }

    /// Total decay rate at n; with frozen populations only emission happens.
    pub fn total_rate(&self, n: u32, frozen: bool) -> f64 {
        let (r, nr, a) = self.rates(n);
        if frozen { r } else { r + nr + a }
    }

    /// Which event happens, from a uniform `u` in (0, 1).
    pub fn choose(&self, n: u32, frozen: bool, u: f64) -> Decay {
        let (r, nr, a) = self.rates(n);
        let x = u * if frozen { r } else { r + nr + a };
        if frozen || x < r {
            Decay::Radiative
        } else if x < r + nr {
            Decay::NonRadiative
        } else {
            Decay::Auger
        }
    }
}
