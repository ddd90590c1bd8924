//! Range checks on a deserialized configuration: every value is checked before anything
//! runs, and the first violation is reported with its key and the valid range.

use super::schema::{Config, SourceKind};

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

fn finite(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("{v} is not a finite number")))
    }
}

fn positive(key: &str, v: f64, what: &str) -> Result<(), Invalid> {
    finite(key, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("{v} is not valid: {what} must be > 0"),
        ))
    }
}

fn non_negative(key: &str, v: f64, what: &str) -> Result<(), Invalid> {
    finite(key, v)?;
    if v >= 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("{v} is not valid: {what} must be ≥ 0"),
        ))
    }
}

fn index(key: &str, v: f64) -> Result<(), Invalid> {
    finite(key, v)?;
    if v >= 1.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("{v} is not valid: a refractive index must be ≥ 1"),
        ))
    }
}

fn anisotropy(key: &str, v: f64) -> Result<(), Invalid> {
    finite(key, v)?;
    if v > -1.0 && v < 1.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("{v} is not valid: the Henyey–Greenstein anisotropy must lie in (−1, 1)"),
        ))
    }
}

/// Check every value of `config` (the sweep block is checked by the sweep expansion).
pub fn validate(config: &Config) -> Result<(), Invalid> {
    let f = &config.film;
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

    index("cover.refractive_index", config.cover.refractive_index)?;

    let s = &config.substrate;
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

    let src = &config.source;
    if src.photons == 0 || src.photons > MAX_PHOTONS {
        return Err(Invalid::new(
            "source.photons",
            format!(
                "{} is not valid: must be between 1 and {MAX_PHOTONS}",
                src.photons
            ),
        ));
    }
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

    let r = &config.run;
    finite("run.roulette_weight", r.roulette_weight)?;
    if !(r.roulette_weight > 0.0 && r.roulette_weight < 1.0) {
        return Err(Invalid::new(
            "run.roulette_weight",
            format!("{} is not valid: must lie in (0, 1)", r.roulette_weight),
        ));
    }
    finite("run.roulette_survival", r.roulette_survival)?;
    if !(r.roulette_survival > 0.0 && r.roulette_survival <= 1.0) {
        return Err(Invalid::new(
            "run.roulette_survival",
            format!("{} is not valid: must lie in (0, 1]", r.roulette_survival),
        ));
    }

    positive(
        "tally.time_max_ps",
        config.tally.time_max_ps,
        "the time-of-flight range",
    )?;
    let bins = config.tally.time_bins;
    if bins == 0 || bins > MAX_TIME_BINS {
        return Err(Invalid::new(
            "tally.time_bins",
            format!("{bins} is not valid: must be between 1 and {MAX_TIME_BINS}"),
        ));
    }
    Ok(())
}
