//! `asemc modes`: the guided modes of a cover/film/substrate slab waveguide, and the
//! film thicknesses at which the lowest ones are cut off.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::dispersion::{DISPERSION_FORMS, Dispersion};
use crate::error::{Error, Result};
use crate::modes::{Polarization, Slab};

use super::emit;

/// The slab of `asemc modes`: the film's and the substrate's index each a number or a
/// dispersion.
#[derive(Debug, Clone, Copy, PartialEq, clap::Args)]
pub struct SlabArgs {
    /// The film's refractive index: a number, or a dispersion.
    #[arg(long, value_name = "N|DISPERSION", long_help = format!("The film's refractive index: a number, or a dispersion: {DISPERSION_FORMS}"))]
    pub n_film: Dispersion,
    /// The substrate's refractive index: a number, or a dispersion.
    #[arg(long, value_name = "N|DISPERSION", long_help = format!("The substrate's refractive index: a number, or a dispersion: {DISPERSION_FORMS}"))]
    pub n_substrate: Dispersion,
    /// The cover's refractive index.
    #[arg(long, default_value_t = 1.0)]
    pub n_cover: f64,
    /// The film's thickness, nm.
    #[arg(long)]
    pub thickness_nm: f64,
    /// The vacuum wavelength, nm.
    #[arg(long)]
    pub wavelength_nm: f64,
}

pub(super) fn modes(args: &SlabArgs, as_json: bool) -> Result<()> {
    let mut out = String::new();
    for (name, v) in [
        ("--thickness-nm", args.thickness_nm),
        ("--wavelength-nm", args.wavelength_nm),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::Usage(format!("{name} {v}: must be > 0")));
        }
    }
    let slab = Slab {
        film: args.n_film,
        substrate: args.n_substrate,
        n_cover: args.n_cover,
        thickness_nm: args.thickness_nm,
        wavelength_nm: args.wavelength_nm,
    };
    for (name, v) in [
        ("--n-film", slab.n_film()),
        ("--n-substrate", slab.n_substrate()),
        ("--n-cover", slab.n_cover),
    ] {
        if !(v.is_finite() && v >= 1.0) {
            return Err(Error::Usage(format!(
                "{name} {v}: a refractive index must be ≥ 1"
            )));
        }
    }
    let modes = slab.modes();
    let cutoffs: Map<String, Value> = [
        (Polarization::TE, 0),
        (Polarization::TM, 0),
        (Polarization::TE, 1),
        (Polarization::TM, 1),
    ]
    .into_iter()
    .map(|(p, m)| (format!("{p:?}{m}"), json!(slab.cutoff_thickness_nm(p, m))))
    .collect();
    if as_json {
        let text = serde_json::to_string_pretty(&json!({
            "n_film": slab.n_film(),
            "n_substrate": slab.n_substrate(),
            "modes": modes,
            "cutoff_thickness_nm": cutoffs,
        }))
        .map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    writeln!(
        out,
        "slab: film n = {:.5} ({} nm) on n = {:.5} under n = {}, λ = {} nm",
        slab.n_film(),
        slab.thickness_nm,
        slab.n_substrate(),
        slab.n_cover,
        slab.wavelength_nm
    )
    .ok();
    if modes.is_empty() {
        writeln!(out, "no guided modes").ok();
    }
    for m in &modes {
        writeln!(
            out,
            "  {:?}{}  n_eff = {:.5}  n_g = {:.5}  Γ_E = {:.4}  Γ' = {:.4} (isotropic)  Γ'∥ = {:.4} (in-plane dipoles)",
            m.polarization,
            m.order,
            m.n_eff,
            m.group_index,
            m.confinement_factor,
            m.modal_gain_factor,
            m.modal_gain_factor_in_plane
        )
        .ok();
    }
    for (k, v) in &cutoffs {
        match v.as_f64() {
            Some(h) => writeln!(out, "  cut-off {k}: {h:.1} nm").ok(),
            None => writeln!(
                out,
                "  cut-off {k}: none (film index not above both claddings)"
            )
            .ok(),
        };
    }
    emit(&out)
}
