//! The configuration as the user writes it: one simulation point plus an optional
//! `[sweep]`. Units are in the key names; unknown keys are rejected; defaults are
//! documented on each field and in the README's config reference.

use serde::{Deserialize, Serialize};

/// Refractive index of fused silica at 480 nm (Malitson, JOSA 55, 1205 (1965)).
pub const FUSED_SILICA_INDEX_480NM: f64 = 1.4635;

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The gain film (the layer that holds the emitters).
    pub film: Film,
    /// The medium above the film (semi-infinite).
    #[serde(default)]
    pub cover: Cover,
    /// The substrate below the film.
    #[serde(default)]
    pub substrate: Substrate,
    /// What launches photon packets.
    #[serde(default)]
    pub source: Source,
    /// Run control: seed and variance reduction.
    #[serde(default)]
    pub run: Run,
    /// Tally resolution.
    #[serde(default)]
    pub tally: Tally,
    /// Optional parameter sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
}

/// The film slab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Film {
    /// Thickness, nm (> 0).
    pub thickness_nm: f64,
    /// Refractive index (≥ 1).
    pub refractive_index: f64,
    /// Background absorption coefficient, cm⁻¹ (≥ 0).
    #[serde(default)]
    pub absorption_per_cm: f64,
    /// Scattering coefficient, cm⁻¹ (≥ 0).
    #[serde(default)]
    pub scattering_per_cm: f64,
    /// Henyey–Greenstein anisotropy g, in (−1, 1).
    #[serde(default)]
    pub anisotropy: f64,
    /// Extent along x (the stripe axis), µm; 0 = laterally infinite.
    #[serde(default)]
    pub length_um: f64,
    /// Extent along y, µm; 0 = laterally infinite.
    #[serde(default)]
    pub width_um: f64,
}

/// The cover medium (air by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cover {
    /// Refractive index (≥ 1).
    #[serde(default = "one")]
    pub refractive_index: f64,
}

impl Default for Cover {
    fn default() -> Self {
        Self {
            refractive_index: 1.0,
        }
    }
}

/// The substrate (fused silica by default, semi-infinite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Substrate {
    /// Refractive index (≥ 1).
    #[serde(default = "fused_silica")]
    pub refractive_index: f64,
    /// Thickness, µm; 0 = semi-infinite (light entering it has left the film).
    #[serde(default)]
    pub thickness_um: f64,
    /// Absorption coefficient, cm⁻¹ (finite substrates only).
    #[serde(default)]
    pub absorption_per_cm: f64,
    /// Scattering coefficient, cm⁻¹ (finite substrates only).
    #[serde(default)]
    pub scattering_per_cm: f64,
    /// Henyey–Greenstein anisotropy g, in (−1, 1).
    #[serde(default)]
    pub anisotropy: f64,
    /// Index of the medium below a finite substrate (air by default).
    #[serde(default = "one")]
    pub backside_refractive_index: f64,
}

impl Default for Substrate {
    fn default() -> Self {
        Self {
            refractive_index: FUSED_SILICA_INDEX_480NM,
            thickness_um: 0.0,
            absorption_per_cm: 0.0,
            scattering_per_cm: 0.0,
            anisotropy: 0.0,
            backside_refractive_index: 1.0,
        }
    }
}

/// The kinds of photon source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A pencil beam at normal incidence from the cover onto the film top.
    Pencil,
    /// Isotropic emission from points spread uniformly through the film's depth.
    Isotropic,
}

/// The photon source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `"pencil"` or `"isotropic"`.
    #[serde(default = "pencil")]
    pub kind: SourceKind,
    /// Photon packets launched per sweep point (1 … 4 294 967 295).
    #[serde(default = "default_photons")]
    pub photons: u64,
    /// Lateral position of the beam or emitter, µm from the film centre.
    #[serde(default)]
    pub x_um: f64,
    /// Lateral position of the beam or emitter, µm from the film centre.
    #[serde(default)]
    pub y_um: f64,
    /// Isotropic source only: emitter depth below the film top, nm; absent = spread
    /// uniformly through the film's depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_nm: Option<f64>,
}

impl Default for Source {
    fn default() -> Self {
        Self {
            kind: SourceKind::Pencil,
            photons: default_photons(),
            x_um: 0.0,
            y_um: 0.0,
            depth_nm: None,
        }
    }
}

/// Run control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Seed of every random stream of the run (0 … 2⁶⁴−1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Packets fainter than this weight (relative to launch) play Russian roulette.
    #[serde(default = "default_roulette_weight")]
    pub roulette_weight: f64,
    /// Survival probability of Russian roulette; survivors' weight is divided by it.
    #[serde(default = "default_roulette_survival")]
    pub roulette_survival: f64,
}

impl Default for Run {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            roulette_weight: default_roulette_weight(),
            roulette_survival: default_roulette_survival(),
        }
    }
}

/// Tally resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    /// Upper end of the time-of-flight histograms, ps (> 0).
    #[serde(default = "default_time_max_ps")]
    pub time_max_ps: f64,
    /// Number of time-of-flight bins (≥ 1).
    #[serde(default = "default_time_bins")]
    pub time_bins: u32,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            time_max_ps: default_time_max_ps(),
            time_bins: default_time_bins(),
        }
    }
}

/// How sweep axes combine into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Every combination; the first axis varies slowest.
    #[default]
    Product,
    /// Axes taken side by side; all must have the same length.
    Zip,
}

/// A parameter sweep over numeric keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// `"product"` (default) or `"zip"`.
    #[serde(default)]
    pub combine: Combine,
    /// The swept keys, in order.
    #[serde(default)]
    pub axes: Vec<Axis>,
}

/// One swept key and its values: exactly one of `values`, `linspace`, `logspace`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Dotted key path, e.g. `"film.thickness_nm"`.
    pub key: String,
    /// Explicit list of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
    /// `[first, last, count]`, evenly spaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linspace: Option<(f64, f64, u32)>,
    /// `[first, last, count]`, evenly spaced in logarithm (both ends > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logspace: Option<(f64, f64, u32)>,
}

fn one() -> f64 {
    1.0
}
fn fused_silica() -> f64 {
    FUSED_SILICA_INDEX_480NM
}
fn pencil() -> SourceKind {
    SourceKind::Pencil
}
fn default_photons() -> u64 {
    100_000
}
fn default_seed() -> u64 {
    1
}
/// MCML's roulette threshold (Wang, Jacques & Zheng, CMPB 47, 131 (1995)).
fn default_roulette_weight() -> f64 {
    1e-4
}
/// MCML's roulette survival chance (1 in 10).
fn default_roulette_survival() -> f64 {
    0.1
}
fn default_time_max_ps() -> f64 {
    100.0
}
fn default_time_bins() -> u32 {
    200
}
