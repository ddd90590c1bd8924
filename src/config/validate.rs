//! Range checks on a deserialized configuration: every value is checked before anything
//! runs, and the first violation is reported with its key and the valid range.

use super::schema::{Config, Film, Run, Source, SourceKind, Substrate, Tally};
use super::validate_pump::validate_pump_source;

/// A value outside its valid range: the dotted key and a message saying what is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub key: String,
    pub message: String,
}

impl Invalid {
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// Largest number of photon packets one point may launch: packet indices are 32-bit
/// counter words of the random streams.
pub const MAX_PHOTONS: u64 = u32::MAX as u64;

/// Largest number of time-of-flight bins.
pub const MAX_TIME_BINS: u32 = 100_000;

pub(super) fn finite(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("{v} is not a finite number")))
    }
}

/// `Ok` where `v` (at `key`) is finite and `holds`, else the error "`v` is not valid:
/// `valid`".
pub(super) fn require(key: &str, v: f64, holds: bool, valid: &str) -> Result<(), Invalid> {
    finite(key, v)?;
    if holds {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("{v} is not valid: {valid}")))
    }
}

pub(super) fn positive(key: &str, v: f64, what: &str) -> Result<(), Invalid> {
    require(key, v, v > 0.0, &format!("{what} must be > 0"))
}

pub(super) fn non_negative(key: &str, v: f64, what: &str) -> Result<(), Invalid> {
    require(key, v, v >= 0.0, &format!("{what} must be ≥ 0"))
}

fn index(key: &str, v: f64) -> Result<(), Invalid> {
    require(key, v, v >= 1.0, "a refractive index must be ≥ 1")
}

fn anisotropy(key: &str, v: f64) -> Result<(), Invalid> {
    require(
        key,
        v,
        v > -1.0 && v < 1.0,
        "the Henyey–Greenstein anisotropy must lie in (−1, 1)",
    )
}

/// Check every value of `config` (the sweep block is checked by the sweep expansion).
pub fn validate(config: &Config) -> Result<(), Invalid> {
    validate_film(&config.film)?;

    index("cover.refractive_index", config.cover.refractive_index)?;

    validate_substrate(&config.substrate)?;
    validate_source(&config.source, &config.film)?;
    validate_roulette(&config.run)?;
    validate_replicas(&config.run)?;

    validate_pump_source(config)?;

    validate_tally(&config.tally)
}

/// The film's thickness, optical constants and lateral size.
fn validate_film(f: &Film) -> Result<(), Invalid> {
    positive("film.thickness_nm", f.thickness_nm, "the film thickness")?;
    index("film.refractive_index", f.refractive_index)?;
    non_negative(
        "film.absorption_per_cm",
        f.absorption_per_cm,
        "an absorption coefficient",
    )?;
    non_negative(
        "film.scattering_per_cm",
        f.scattering_per_cm,
        "a scattering coefficient",
    )?;
    anisotropy("film.anisotropy", f.anisotropy)?;
    non_negative(
        "film.length_um",
        f.length_um,
        "the film length (0 = infinite)",
    )?;
    non_negative("film.width_um", f.width_um, "the film width (0 = infinite)")?;
    Ok(())
}

/// The substrate's optical constants and thickness; a semi-infinite substrate must be lossless.
fn validate_substrate(s: &Substrate) -> Result<(), Invalid> {
    index("substrate.refractive_index", s.refractive_index)?;
    non_negative(
        "substrate.thickness_um",
        s.thickness_um,
        "the substrate thickness (0 = semi-infinite)",
    )?;
    non_negative(
        "substrate.absorption_per_cm",
        s.absorption_per_cm,
        "an absorption coefficient",
    )?;
    non_negative(
        "substrate.scattering_per_cm",
        s.scattering_per_cm,
        "a scattering coefficient",
    )?;
    anisotropy("substrate.anisotropy", s.anisotropy)?;
    index(
        "substrate.backside_refractive_index",
        s.backside_refractive_index,
    )?;
    if s.thickness_um == 0.0 {
        for (key, v) in [
            ("substrate.absorption_per_cm", s.absorption_per_cm),
            ("substrate.scattering_per_cm", s.scattering_per_cm),
        ] {
            if v != 0.0 {
                return Err(Invalid::new(
                    key,
                    format!(
                        "{v} is not valid: a semi-infinite substrate (substrate.thickness_um = 0) \
                         is an exit, so it must be 0; give substrate.thickness_um > 0 to model a lossy substrate"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The source's packet count, its position on the film `f` and an isotropic source's depth.
fn validate_source(src: &Source, f: &Film) -> Result<(), Invalid> {
    one_to("source.photons", src.photons, MAX_PHOTONS)?;
    for (key, pos_um, extent_um) in [
        ("source.x_um", src.x_um, f.length_um),
        ("source.y_um", src.y_um, f.width_um),
    ] {
        finite(key, pos_um)?;
        if extent_um > 0.0 && pos_um.abs() >= 0.5 * extent_um {
            return Err(Invalid::new(
                key,
                format!(
                    "{pos_um} is not valid: the source must lie on the film, strictly within ±{} µm of its centre",
                    0.5 * extent_um
                ),
            ));
        }
    }

    if let Some(depth) = src.depth_nm {
        finite("source.depth_nm", depth)?;
        if src.kind != SourceKind::Isotropic {
            return Err(Invalid::new(
                "source.depth_nm",
                "only an isotropic source has a depth; remove it or set source.kind = \"isotropic\"",
            ));
        }
        if !(depth >= 0.0 && depth <= f.thickness_nm) {
            return Err(Invalid::new(
                "source.depth_nm",
                format!(
                    "{depth} is not valid: must lie within the film, 0 … {} nm",
                    f.thickness_nm
                ),
            ));
        }
    }
    Ok(())
}

/// The Russian-roulette threshold weight and survival probability of the run.
fn validate_roulette(r: &Run) -> Result<(), Invalid> {
    let w = r.roulette_weight;
    require(
        "run.roulette_weight",
        w,
        w > 0.0 && w < 1.0,
        "must lie in (0, 1)",
    )?;
    let s = r.roulette_survival;
    require(
        "run.roulette_survival",
        s,
        s > 0.0 && s <= 1.0,
        "must lie in (0, 1]",
    )
}

/// The replicas of a point, and the precision a precision-driven run aims at.
fn validate_replicas(r: &Run) -> Result<(), Invalid> {
    one_to(
        "run.replicas",
        u64::from(r.replicas),
        u64::from(MAX_REPLICAS),
    )?;
    one_to(
        "run.max_replicas",
        u64::from(r.max_replicas),
        u64::from(MAX_REPLICAS),
    )?;
    if r.target_relative_error.is_some() && r.max_replicas < r.replicas {
        return Err(Invalid::new(
            "run.max_replicas",
            format!(
                "{} is less than run.replicas = {}: a precision-driven run starts with run.replicas and adds up to run.max_replicas",
                r.max_replicas, r.replicas
            ),
        ));
    }
    if let Some(e) = r.target_relative_error {
        require(
            "run.target_relative_error",
            e,
            e > 0.0 && e < 1.0,
            "a relative standard error must lie in (0, 1)",
        )?;
        if r.replicas < 2 {
            return Err(Invalid::new(
                "run.replicas",
                "a precision-driven run (run.target_relative_error) needs at least 2 replicas to start from".to_string(),
            ));
        }
    }
    if !crate::ase::report::is_estimate(&r.target_quantity) {
        let estimates: Vec<&str> = crate::ase::report::RESULT_NAMES
            .into_iter()
            .filter(|n| crate::ase::report::is_estimate(n))
            .collect();
        return Err(Invalid::new(
            "run.target_quantity",
            format!(
                "\"{}\" is not a scalar result of the ASE engine with a standard error; one of: {}",
                r.target_quantity,
                estimates.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The most replicas of one point.
pub const MAX_REPLICAS: u32 = 4096;

/// The time-of-flight range and bin count of the tally.
fn validate_tally(t: &Tally) -> Result<(), Invalid> {
    positive(
        "tally.time_max_ps",
        t.time_max_ps,
        "the time-of-flight range",
    )?;
    one_to(
        "tally.time_bins",
        u64::from(t.time_bins),
        u64::from(MAX_TIME_BINS),
    )
}

/// `Ok` where the number `v` (at `key`) lies in 1 ..= `max`, else the error saying so.
pub(super) fn one_to(key: &str, v: u64, max: u64) -> Result<(), Invalid> {
    if v == 0 || v > max {
        return Err(Invalid::new(
            key,
            format!("{v} is not valid: must be between 1 and {max}"),
        ));
    }
    Ok(())
}

pub(super) fn count(key: &str, v: u32, min: u32, what: &str) -> Result<(), Invalid> {
    if v >= min {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("{v} is not valid: {what} must be ≥ {min}"),
        ))
    }
}
