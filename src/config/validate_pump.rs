//! Range checks on the ASE engine's keys: the platelets, the pump, the spectral
//! window, the detector, the grid and the time stepping, each reported with its key
//! and the valid range (`validate` calls these for every source).

use super::schema::{Config, Detector, Film, Grid, Platelets, Pump, Run, SourceKind, Spectrum};
use super::validate::{
    Invalid, MAX_TIME_BINS, count, finite, non_negative, one_to, positive, require,
};
use crate::units::HC_EV_NM;

/// Largest number of sampled platelets (cells × samples per cell) of one point.
pub const MAX_SAMPLED_PLATELETS: u64 = 200_000_000;

/// The platelets, pump, spectrum, detector, grid and time stepping of the ASE engine.
pub(super) fn validate_pump_source(config: &Config) -> Result<(), Invalid> {
    let p = &config.platelets;
    validate_platelets(p)?;
    validate_spectrum(&config.spectrum, p)?;
    validate_detector(&config.detector)?;
    validate_grid(&config.grid, p)?;
    validate_time_stepping(&config.run, p)?;

    if config.source.kind != SourceKind::Pump {
        return Ok(());
    }
    let f = &config.film;
    validate_pumped_film(f)?;
    validate_platelet_concentration(p)?;
    validate_pump(config.pump.as_ref(), f)
}

/// The platelets' concentration, sampling, lifetimes, cross-section, emission line and degeneracy.
fn validate_platelets(p: &Platelets) -> Result<(), Invalid> {
    if let Some(v) = p.density_per_cm3 {
        positive("platelets.density_per_cm3", v, "the platelet density")?;
    }
    if let Some(v) = p.volume_fraction {
        require(
            "platelets.volume_fraction",
            v,
            v > 0.0 && v <= 1.0,
            "a volume fraction must lie in (0, 1]",
        )?;
    }
    if let Some(v) = p.volume_nm3 {
        positive("platelets.volume_nm3", v, "the platelet volume")?;
    }
    count(
        "platelets.samples_per_cell",
        p.samples_per_cell,
        1,
        "the number of sampled platelets per cell",
    )?;
    positive(
        "platelets.radiative_lifetime_ps",
        p.radiative_lifetime_ps,
        "a lifetime",
    )?;
    if let Some(v) = p.nonradiative_lifetime_ps {
        positive(
            "platelets.nonradiative_lifetime_ps",
            v,
            "a lifetime (omit the key for no non-radiative decay)",
        )?;
    }
    positive(
        "platelets.biexciton_lifetime_ps",
        p.biexciton_lifetime_ps,
        "a lifetime",
    )?;
    positive(
        "platelets.peak_cross_section_cm2",
        p.peak_cross_section_cm2,
        "a cross-section",
    )?;
    positive(
        "platelets.emission_peak_nm",
        p.emission_peak_nm,
        "a wavelength",
    )?;
    positive(
        "platelets.homogeneous_fwhm_mev",
        p.homogeneous_fwhm_mev,
        "the homogeneous linewidth",
    )?;
    non_negative(
        "platelets.inhomogeneous_fwhm_mev",
        p.inhomogeneous_fwhm_mev,
        "the inhomogeneous linewidth",
    )?;
    finite("platelets.biexciton_shift_mev", p.biexciton_shift_mev)?;
    count(
        "platelets.degeneracy",
        p.degeneracy,
        1,
        "the band-edge degeneracy",
    )?;
    Ok(())
}

/// The spectral window and bins, which must contain the emission lines of the platelets `p`.
fn validate_spectrum(sp: &Spectrum, p: &Platelets) -> Result<(), Invalid> {
    positive("spectrum.min_nm", sp.min_nm, "a wavelength")?;
    positive("spectrum.max_nm", sp.max_nm, "a wavelength")?;
    if sp.max_nm <= sp.min_nm {
        return Err(Invalid::new(
            "spectrum.max_nm",
            format!(
                "{} is not valid: must exceed spectrum.min_nm = {}",
                sp.max_nm, sp.min_nm
            ),
        ));
    }
    one_to(
        "spectrum.bins",
        u64::from(sp.bins),
        u64::from(MAX_TIME_BINS),
    )?;
    let exciton_nm = p.emission_peak_nm;
    let biexciton_nm = HC_EV_NM / (HC_EV_NM / exciton_nm - 1e-3 * p.biexciton_shift_mev);
    for (what, nm) in [("exciton", exciton_nm), ("biexciton", biexciton_nm)] {
        if !(nm > sp.min_nm && nm < sp.max_nm) {
            return Err(Invalid::new(
                "spectrum.min_nm",
                format!(
                    "the window {} … {} nm does not contain the {what} emission line at {nm:.1} nm; \
                     widen spectrum.min_nm / spectrum.max_nm",
                    sp.min_nm, sp.max_nm
                ),
            ));
        }
    }
    Ok(())
}

/// The detector's acceptance half-angle.
fn validate_detector(d: &Detector) -> Result<(), Invalid> {
    let a = d.acceptance_half_angle_deg;
    require(
        "detector.acceptance_half_angle_deg",
        a,
        a > 0.0 && a <= 90.0,
        "must lie in (0, 90] degrees",
    )
}

/// The grid's cell counts and the number of platelets `p` they sample.
fn validate_grid(g: &Grid, p: &Platelets) -> Result<(), Invalid> {
    count("grid.cells_x", g.cells_x, 1, "the number of cells")?;
    count("grid.cells_y", g.cells_y, 1, "the number of cells")?;
    count("grid.cells_z", g.cells_z, 1, "the number of cells")?;
    // In 128 bits: four 32-bit counts cannot overflow it.
    let sampled = u128::from(g.cells_x)
        * u128::from(g.cells_y)
        * u128::from(g.cells_z)
        * u128::from(p.samples_per_cell);
    if sampled > u128::from(MAX_SAMPLED_PLATELETS) {
        return Err(Invalid::new(
            "platelets.samples_per_cell",
            format!(
                "{sampled} sampled platelets (cells × samples per cell) is more than {MAX_SAMPLED_PLATELETS}; use fewer cells or samples"
            ),
        ));
    }
    Ok(())
}

/// The time step (at most the shortest lifetime of `p`), duration, packets, cone, exchange cap.
fn validate_time_stepping(r: &Run, p: &Platelets) -> Result<(), Invalid> {
    positive("run.time_step_fs", r.time_step_fs, "the time step")?;
    positive("run.duration_ps", r.duration_ps, "the duration")?;
    count(
        "run.packets_per_step",
        r.packets_per_step,
        1,
        "the packets per time step",
    )?;
    let cone = r.axial_cone_deg;
    require(
        "run.axial_cone_deg",
        cone,
        (0.0..90.0).contains(&cone),
        "the half-angle of the sampling cones around ±x must lie in [0, 90) degrees (0 turns it off)",
    )?;
    let share = r.max_exchange_fraction;
    require(
        "run.max_exchange_fraction",
        share,
        share > 0.0 && share <= 1.0,
        "the share of a cell's excitons one step may exchange must lie in (0, 1]",
    )?;
    let shortest = [
        (
            "platelets.radiative_lifetime_ps",
            Some(p.radiative_lifetime_ps),
        ),
        (
            "platelets.nonradiative_lifetime_ps",
            p.nonradiative_lifetime_ps,
        ),
        (
            "platelets.biexciton_lifetime_ps",
            Some(p.biexciton_lifetime_ps),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((key, tau_ps)) = shortest
        && r.time_step_fs * 1e-3 > tau_ps
    {
        return Err(Invalid::new(
            "run.time_step_fs",
            format!(
                "{} fs is not valid: the time step must not exceed the shortest lifetime ({key} = {tau_ps} ps)",
                r.time_step_fs
            ),
        ));
    }
    Ok(())
}

/// A pumped film must have a finite length and width.
fn validate_pumped_film(f: &Film) -> Result<(), Invalid> {
    for (key, v) in [
        ("film.length_um", f.length_um),
        ("film.width_um", f.width_um),
    ] {
        if v <= 0.0 {
            return Err(Invalid::new(
                key,
                "the pump source needs a film of finite size: give film.length_um and film.width_um > 0",
            ));
        }
    }
    Ok(())
}

/// A pumped film's platelets need a density, or a volume fraction with a platelet volume.
fn validate_platelet_concentration(p: &Platelets) -> Result<(), Invalid> {
    match (p.density_per_cm3, p.volume_fraction, p.volume_nm3) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        _ => {
            return Err(Invalid::new(
                "platelets",
                "give either platelets.density_per_cm3, or platelets.volume_fraction with platelets.volume_nm3",
            ));
        }
    }
    Ok(())
}

/// The `[pump]` table: its excitation, wavelength, cross-section and a stripe that fits on `f`.
fn validate_pump(pump: Option<&Pump>, f: &Film) -> Result<(), Invalid> {
    let Some(pump) = pump else {
        return Err(Invalid::new(
            "pump",
            "source.kind = \"pump\" needs a [pump] table with stripe_length_um, stripe_width_um and fluence_uj_cm2 or mean_excitons",
        ));
    };
    match (pump.fluence_uj_cm2, pump.mean_excitons) {
        (Some(v), None) => non_negative("pump.fluence_uj_cm2", v, "the fluence")?,
        (None, Some(v)) => non_negative("pump.mean_excitons", v, "the mean exciton number")?,
        _ => {
            return Err(Invalid::new(
                "pump",
                "give exactly one of pump.fluence_uj_cm2 and pump.mean_excitons",
            ));
        }
    }
    positive("pump.wavelength_nm", pump.wavelength_nm, "a wavelength")?;
    positive(
        "pump.cross_section_cm2",
        pump.cross_section_cm2,
        "a cross-section",
    )?;
    positive(
        "pump.stripe_length_um",
        pump.stripe_length_um,
        "the stripe length",
    )?;
    positive(
        "pump.stripe_width_um",
        pump.stripe_width_um,
        "the stripe width",
    )?;
    for (key, stripe_um, than, film_key, film_um) in [
        (
            "pump.stripe_length_um",
            pump.stripe_length_um,
            "longer",
            "film.length_um",
            f.length_um,
        ),
        (
            "pump.stripe_width_um",
            pump.stripe_width_um,
            "wider",
            "film.width_um",
            f.width_um,
        ),
    ] {
        if stripe_um > film_um {
            return Err(Invalid::new(
                key,
                format!(
                    "{stripe_um} is not valid: the stripe cannot be {than} than the film ({film_key} = {film_um})"
                ),
            ));
        }
    }
    Ok(())
}
