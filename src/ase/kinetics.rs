//! Exciton kinetics of one platelet: radiative n·k_r, non-radiative n·k_nr and Auger
//! k_A(n) rates, and the continuous-time (Gillespie) choice of the next loss event.

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

/// A loss event of a platelet (radiative decay is booked with spontaneous emission,
/// see `spontaneous.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
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

    /// Rate of the discrete loss events (non-radiative and Auger) at n; none with
    /// frozen populations.
    pub fn loss_rate(&self, n: u32, frozen: bool) -> f64 {
        let (_, nr, a) = self.rates(n);
        if frozen { 0.0 } else { nr + a }
    }

    /// Which loss event happens, from a uniform `u` in (0, 1).
    pub fn choose(&self, n: u32, u: f64) -> Loss {
        let (_, nr, a) = self.rates(n);
        if u * (nr + a) < nr {
            Loss::NonRadiative
        } else {
            Loss::Auger
        }
    }
}
