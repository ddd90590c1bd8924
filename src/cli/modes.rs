//! `asemc modes`: the guided modes of a cover/film/substrate slab waveguide, and the
//! film thicknesses at which the lowest ones are cut off.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::modes::{Polarization, Slab};

use super::emit;

pub(super) fn modes(slab: Slab, as_json: bool) -> Result<()> {
    let mut out = String::new();
    for (name, v) in [
        ("--n-film", slab.n_film),
        ("--n-substrate", slab.n_substrate),
        ("--n-cover", slab.n_cover),
    ] {
        if !(v.is_finite() && v >= 1.0) {
            return Err(Error::Usage(format!(
                "{name} {v}: a refractive index must be ≥ 1"
            )));
        }
    }
    for (name, v) in [
        ("--thickness-nm", slab.thickness_nm),
        ("--wavelength-nm", slab.wavelength_nm),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::Usage(format!("{name} {v}: must be > 0")));
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
            "modes": modes,
            "cutoff_thickness_nm": cutoffs,
        }))
        .map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    writeln!(
        out,
        "slab: film n = {} ({} nm) on n = {} under n = {}, λ = {} nm",
        slab.n_film, slab.thickness_nm, slab.n_substrate, slab.n_cover, slab.wavelength_nm
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
