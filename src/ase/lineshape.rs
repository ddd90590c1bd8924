//! The spectral side of the optical transitions: the wavelength grid, the homogeneous
//! line shape φ (normalised to 1 at its peak) and sampling photon energies from it.

use crate::config::{LineShape, Spectrum};
use crate::rng::Stream;
use crate::units::HC_EV_NM;

/// Uniform bins in wavelength.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralGrid {
    pub min_nm: f64,
    pub max_nm: f64,
    pub bins: usize,
    /// Photon energy at each bin centre, eV.
    pub energy_ev: Vec<f64>,
}

impl SpectralGrid {
    pub fn from_config(s: &Spectrum) -> Self {
        let bins = s.bins as usize;
        let width = (s.max_nm - s.min_nm) / bins as f64;
        let energy_ev = (0..bins)
            .map(|b| HC_EV_NM / (s.min_nm + (b as f64 + 0.5) * width))
            .collect();
        Self {
            min_nm: s.min_nm,
            max_nm: s.max_nm,
            bins,
            energy_ev,
        }
    }

    pub fn width_nm(&self) -> f64 {
        (self.max_nm - self.min_nm) / self.bins as f64
    }

    /// Bin centres, nm.
    pub fn centres_nm(&self) -> Vec<f64> {
        (0..self.bins)
            .map(|b| self.min_nm + (b as f64 + 0.5) * self.width_nm())
            .collect()
    }

    /// The bin holding photon energy `e_ev`, or `None` outside the window.
    pub fn bin_of_energy(&self, e_ev: f64) -> Option<usize> {
        if e_ev <= 0.0 {
            return None;
        }
        let nm = HC_EV_NM / e_ev;
        let b = ((nm - self.min_nm) / self.width_nm()).floor();
        (b >= 0.0 && b < self.bins as f64).then_some(b as usize)
    }
}

/// A homogeneous line of given half width at half maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub shape: LineShape,
    /// Half width at half maximum, eV.
    pub hwhm_ev: f64,
}

impl Line {
    /// φ(δE), 1 at δE = 0.
    #[inline]
    pub fn phi(&self, delta_ev: f64) -> f64 {
        let x = delta_ev / self.hwhm_ev;
        match self.shape {
            LineShape::Lorentzian => 1.0 / (1.0 + x * x),
            LineShape::Gaussian => (-std::f64::consts::LN_2 * x * x).exp(),
        }
    }

    /// An energy offset drawn from the normalised line shape.
    pub fn sample_offset(&self, rng: &mut Stream) -> f64 {
        match self.shape {
            LineShape::Lorentzian => {
                self.hwhm_ev * (std::f64::consts::PI * (rng.uniform() - 0.5)).tan()
            }
            LineShape::Gaussian => {
                let sigma = self.hwhm_ev / (2.0 * std::f64::consts::LN_2).sqrt();
                sigma * standard_normal(rng)
            }
        }
    }
}

/// A standard normal deviate (Box–Muller, one of the pair).
pub fn standard_normal(rng: &mut Stream) -> f64 {
    let (u1, u2) = (rng.uniform(), rng.uniform());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
