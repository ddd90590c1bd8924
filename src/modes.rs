//! Guided modes of the three-layer asymmetric slab waveguide (cover / film /
//! substrate): effective indices, confinement factors, modal-gain factors and cut-off
//! thicknesses for TE and TM polarisation.
//!
//! Dispersion relation (film thickness h, κ = k₀√(n_f² − n_eff²), γ_j = k₀√(n_eff² − n_j²)):
//! κh = mπ + atan(r_s γ_s/κ) + atan(r_c γ_c/κ), with r_j = 1 for TE and n_f²/n_j² for TM
//! (Kogelnik, in *Integrated Optics*, Springer 1975). The transverse field is
//! cos(κx − φ) in the film (x = 0 at the substrate, tan φ = r_s γ_s/κ) and decays as
//! exp(−γ_j·distance) outside, so every overlap integral below is closed-form.
//!
//! Modal-gain factor Γ' = n_f ε₀c ∫_film |E|² dx / ∫ Re(E × H*)_z dx (Visser et al.,
//! IEEE JQE 33, 1763 (1997)): (n_f/n_eff)·Γ_E for TE; for TM the longitudinal field
//! Ez counts in |E|² and the power flow is weighted by 1/n². That Γ' is for an
//! isotropic gain medium, equal to ∂n_eff/∂n_f. Face-down platelets have their
//! transition dipoles in the film plane and feel only the in-plane field: the TE
//! mode's E_y and the TM mode's longitudinal E_z, not its E_x across the film, so
//! their Γ'∥ counts only those (= ∂n_eff/∂n_∥ of a uniaxial film whose in-plane index
//! alone changes); for TE it is Γ'.
//!
//! Group index n_g = n_eff − λ dn_eff/dλ, by a central difference over λ(1 ± 10⁻⁵)
//! with the film's and substrate's indices taken at each wavelength from their
//! dispersion (`crate::dispersion`; constant indices give the waveguide's dispersion
//! alone).

use crate::dispersion::Dispersion;
use serde::Serialize;
use std::f64::consts::PI;

/// Bisection steps on n_eff: 2⁻²⁰⁰ of the bracket, far below f64 resolution.
const BISECTION_STEPS: usize = 200;

/// Relative wavelength step of the group index's central difference: its truncation
/// error (∝ step²) and its rounding error (∝ 10⁻¹⁶/step) are both below 10⁻¹⁰.
const GROUP_STEP: f64 = 1e-5;

/// A three-layer slab at one wavelength: the film's and the substrate's indices as
/// functions of the wavelength (constant unless a dispersion is given), the cover's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slab {
    pub film: Dispersion,
    pub substrate: Dispersion,
    pub n_cover: f64,
    pub thickness_nm: f64,
    pub wavelength_nm: f64,
}

/// The slab's indices at one wavelength, which the dispersion relation and the
/// overlaps take.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fixed {
    n_film: f64,
    n_substrate: f64,
    n_cover: f64,
    thickness_nm: f64,
    wavelength_nm: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Polarization {
    TE,
    TM,
}

/// One guided mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mode {
    pub polarization: Polarization,
    pub order: u32,
    pub n_eff: f64,
    /// Γ_E: the fraction of |E|² inside the film.
    pub confinement_factor: f64,
    /// Γ': modal gain = Γ'·g_material − α, for an isotropic gain medium.
    pub modal_gain_factor: f64,
    /// Γ'∥: the same for transition dipoles in the film plane (face-down platelets),
    /// which couple to the in-plane field only.
    pub modal_gain_factor_in_plane: f64,
    /// n_g = n_eff − λ dn_eff/dλ, the layers' dispersion included: c/n_g is the
    /// mode's group velocity.
    pub group_index: f64,
}

impl Slab {
    /// A slab of constant indices.
    pub fn new(
        n_film: f64,
        n_substrate: f64,
        n_cover: f64,
        thickness_nm: f64,
        wavelength_nm: f64,
    ) -> Self {
        Slab {
            film: Dispersion::Constant(n_film),
            substrate: Dispersion::Constant(n_substrate),
            n_cover,
            thickness_nm,
            wavelength_nm,
        }
    }

    /// The film's index at the slab's wavelength.
    pub fn n_film(&self) -> f64 {
        self.film.index(self.wavelength_nm)
    }

    /// The substrate's index at the slab's wavelength.
    pub fn n_substrate(&self) -> f64 {
        self.substrate.index(self.wavelength_nm)
    }

    /// The indices at wavelength `wavelength_nm`.
    fn at(&self, wavelength_nm: f64) -> Fixed {
        Fixed {
            n_film: self.film.index(wavelength_nm),
            n_substrate: self.substrate.index(wavelength_nm),
            n_cover: self.n_cover,
            thickness_nm: self.thickness_nm,
            wavelength_nm,
        }
    }

    /// The guided mode of this polarisation and order, if the slab supports it.
    pub fn mode(&self, pol: Polarization, order: u32) -> Option<Mode> {
        let here = self.at(self.wavelength_nm);
        let n_eff = here.n_eff(pol, order)?;
        let (confinement_factor, modal_gain_factor, modal_gain_factor_in_plane) =
            here.overlaps(pol, n_eff);
        Some(Mode {
            polarization: pol,
            order,
            n_eff,
            confinement_factor,
            modal_gain_factor,
            modal_gain_factor_in_plane,
            group_index: self.group_index(pol, order, n_eff),
        })
    }

    /// All guided modes, TE and TM, by increasing order.
    pub fn modes(&self) -> Vec<Mode> {
        let mut out = Vec::new();
        for order in 0.. {
            let found: Vec<Mode> = [Polarization::TE, Polarization::TM]
                .into_iter()
                .filter_map(|p| self.mode(p, order))
                .collect();
            if found.is_empty() {
                break;
            }
            out.extend(found);
        }
        out
    }

    /// n_eff − λ dn_eff/dλ: a central difference over λ(1 ± GROUP_STEP), the indices
    /// at each wavelength; one-sided where the mode is cut off on one side (within
    /// 10⁻⁵ of its cut-off).
    fn group_index(&self, pol: Polarization, order: u32, n_eff: f64) -> f64 {
        let at = |f: f64| self.at(self.wavelength_nm * f).n_eff(pol, order);
        let slope = match (at(1.0 - GROUP_STEP), at(1.0 + GROUP_STEP)) {
            (Some(a), Some(b)) => (b - a) / (2.0 * GROUP_STEP),
            (Some(a), None) => (n_eff - a) / GROUP_STEP,
            (None, Some(b)) => (b - n_eff) / GROUP_STEP,
            (None, None) => f64::NAN,
        };
        // λ dn_eff/dλ = dn_eff/d(ln λ) = slope.
        n_eff - slope
    }

    /// Thinnest film (nm) that guides the mode at the slab's wavelength, or `None`
    /// when the film index does not exceed both claddings'.
    pub fn cutoff_thickness_nm(&self, pol: Polarization, order: u32) -> Option<f64> {
        self.at(self.wavelength_nm).cutoff_thickness_nm(pol, order)
    }
}

impl Fixed {
    fn k0(&self) -> f64 {
        2.0 * PI / self.wavelength_nm
    }

    /// r_j of the dispersion relation for cladding index `n_j`.
    fn ratio(&self, pol: Polarization, n_j: f64) -> f64 {
        match pol {
            Polarization::TE => 1.0,
            Polarization::TM => (self.n_film / n_j).powi(2),
        }
    }

    /// κh − mπ − atan(r_s γ_s/κ) − atan(r_c γ_c/κ): positive below the root in n_eff.
    fn dispersion(&self, pol: Polarization, order: u32, n_eff: f64) -> f64 {
        let k0 = self.k0();
        let kappa = k0 * (self.n_film.powi(2) - n_eff.powi(2)).max(0.0).sqrt();
        let gamma = |n: f64| k0 * (n_eff.powi(2) - n.powi(2)).max(0.0).sqrt();
        let phase = |n: f64| (self.ratio(pol, n) * gamma(n)).atan2(kappa);
        kappa * self.thickness_nm
            - order as f64 * PI
            - phase(self.n_substrate)
            - phase(self.n_cover)
    }

    /// The effective index of the guided mode, by bisection of the dispersion relation.
    fn n_eff(&self, pol: Polarization, order: u32) -> Option<f64> {
        let lo = self.n_substrate.max(self.n_cover);
        let hi = self.n_film;
        if hi <= lo || self.dispersion(pol, order, lo) <= 0.0 {
            return None;
        }
        let (mut a, mut b) = (lo, hi);
        for _ in 0..BISECTION_STEPS {
            let mid = 0.5 * (a + b);
            if self.dispersion(pol, order, mid) > 0.0 {
                a = mid;
            } else {
                b = mid;
            }
        }
        Some(0.5 * (a + b))
    }

    /// (Γ_E, Γ', Γ'∥) of the mode with effective index `n_eff`.
    fn overlaps(&self, pol: Polarization, n_eff: f64) -> (f64, f64, f64) {
        let k0 = self.k0();
        let (nf, ns, nc, h) = (
            self.n_film,
            self.n_substrate,
            self.n_cover,
            self.thickness_nm,
        );
        let kappa = k0 * (nf * nf - n_eff * n_eff).sqrt();
        let gamma_s = k0 * (n_eff * n_eff - ns * ns).sqrt();
        let gamma_c = k0 * (n_eff * n_eff - nc * nc).sqrt();
        let phi = (self.ratio(pol, ns) * gamma_s).atan2(kappa);
        // Film: ∫cos²(κx−φ), ∫sin²(κx−φ) over 0..h.
        let cos2 = 0.5 * h + ((2.0 * (kappa * h - phi)).sin() + (2.0 * phi).sin()) / (4.0 * kappa);
        let sin2 = h - cos2;
        // Claddings: field² at the interface / 2γ, and for the derivative γ²·that.
        let edge_s = phi.cos().powi(2);
        let edge_c = (kappa * h - phi).cos().powi(2);
        let (tail_s, tail_c) = (edge_s / (2.0 * gamma_s), edge_c / (2.0 * gamma_c));
        match pol {
            Polarization::TE => {
                let gamma_e = cos2 / (cos2 + tail_s + tail_c);
                // E_y lies in the film plane: in-plane dipoles feel all of it.
                (gamma_e, nf / n_eff * gamma_e, nf / n_eff * gamma_e)
            }
            Polarization::TM => {
                // |E|² ∝ (n_eff² H² + H'²/k0²)/n⁴ in each layer; power ∝ ∫H²/n².
                let e2 =
                    |h2: f64, dh2: f64, n: f64| (n_eff * n_eff * h2 + dh2 / (k0 * k0)) / n.powi(4);
                let e_film = e2(cos2, kappa * kappa * sin2, nf);
                let e_sub = e2(tail_s, gamma_s * gamma_s * tail_s, ns);
                let e_cov = e2(tail_c, gamma_c * gamma_c * tail_c, nc);
                let power = cos2 / (nf * nf) + tail_s / (ns * ns) + tail_c / (nc * nc);
                let gamma_e = e_film / (e_film + e_sub + e_cov);
                let gain = |e: f64| nf.powi(4) * e / (nf.powi(3) * n_eff * power);
                // In the film plane: the longitudinal E_z ∝ H'/n² alone.
                let e_film_in_plane = e2(0.0, kappa * kappa * sin2, nf);
                (gamma_e, gain(e_film), gain(e_film_in_plane))
            }
        }
    }

    /// Thinnest film (nm) that guides the mode, or `None` when the film index does not
    /// exceed both claddings'.
    fn cutoff_thickness_nm(&self, pol: Polarization, order: u32) -> Option<f64> {
        let (n_high, n_low) = if self.n_substrate >= self.n_cover {
            (self.n_substrate, self.n_cover)
        } else {
            (self.n_cover, self.n_substrate)
        };
        if self.n_film <= n_high {
            return None;
        }
        let nf2 = self.n_film.powi(2);
        let a_te = (n_high.powi(2) - n_low.powi(2)) / (nf2 - n_high.powi(2));
        let a = match pol {
            Polarization::TE => a_te,
            Polarization::TM => (self.n_film / n_low).powi(4) * a_te,
        };
        Some((order as f64 * PI + a.sqrt().atan()) / (self.k0() * (nf2 - n_high.powi(2)).sqrt()))
    }
}
