//! The configuration as the user writes it: one simulation point plus an optional
//! `[sweep]`. Units are in the key names; unknown keys are rejected; defaults are
//! documented on each field and in docs/configuration.md.

use serde::{Deserialize, Serialize};

pub use super::run::Run;

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
    /// The nanoplatelets in the film (used by the pump source).
    #[serde(default)]
    pub platelets: Platelets,
    /// The femtosecond stripe pump (required by `source.kind = "pump"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pump: Option<Pump>,
    /// The wavelength grid of spectra and gain.
    #[serde(default)]
    pub spectrum: Spectrum,
    /// The edge detector at the stripe's end.
    #[serde(default)]
    pub detector: Detector,
    /// The grid of cells that hold the sampled platelets.
    #[serde(default)]
    pub grid: Grid,
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
    /// A femtosecond stripe pump exciting the film's nanoplatelets (the ASE engine).
    Pump,
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

/// Tally resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    /// Upper end of the time-of-flight histograms, ps (> 0); the pump source's time
    /// traces span `run.duration_ps` instead.
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

/// How exciton-exciton (Auger) recombination scales with the exciton number n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AugerScaling {
    /// 2-D bimolecular, k_XX·n(n−1)/2 (Kunneman et al., JPCL 4, 3574 (2013)).
    #[default]
    Bimolecular,
    /// Quantum-dot cubic, k_XX·n²(n−1)/4 (Klimov, Science 287, 1011 (2000)).
    Cubic,
}

/// Homogeneous line shape of every optical transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineShape {
    /// Lorentzian (pure dephasing).
    #[default]
    Lorentzian,
    /// Gaussian.
    Gaussian,
}

/// The nanoplatelets. Defaults are PHYSICS.md's (sources there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platelets {
    /// Number density, cm⁻³; or give `volume_fraction` and `volume_nm3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_per_cm3: Option<f64>,
    /// Inorganic volume fraction of the film (with `volume_nm3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_fraction: Option<f64>,
    /// Volume of one platelet, nm³ (with `volume_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_nm3: Option<f64>,
    /// Sampled platelets per cell.
    #[serde(default = "default_samples_per_cell")]
    pub samples_per_cell: u32,
    /// Single-exciton radiative lifetime, ps (Ma et al. 2017: 5 ns).
    #[serde(default = "default_radiative_lifetime_ps")]
    pub radiative_lifetime_ps: f64,
    /// Single-exciton non-radiative lifetime, ps; absent = no non-radiative decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonradiative_lifetime_ps: Option<f64>,
    /// Biexciton Auger lifetime τ_XX = 1/k_XX, ps (Li & Lian 2017: 50 ps).
    #[serde(default = "default_biexciton_lifetime_ps")]
    pub biexciton_lifetime_ps: f64,
    /// `"bimolecular"` (default) or `"cubic"`.
    #[serde(default)]
    pub auger_scaling: AugerScaling,
    /// Peak stimulated-emission cross-section σ₀, cm² (Li M. et al. 2015: 7e-14).
    #[serde(default = "default_peak_cross_section_cm2")]
    pub peak_cross_section_cm2: f64,
    /// Mean single-exciton emission wavelength, nm.
    #[serde(default = "default_emission_peak_nm")]
    pub emission_peak_nm: f64,
    /// Homogeneous FWHM, meV (Tessier et al. 2012: 40 meV).
    #[serde(default = "default_homogeneous_fwhm_mev")]
    pub homogeneous_fwhm_mev: f64,
    /// FWHM of the Gaussian distribution of transition energies, meV (0 allowed).
    #[serde(default)]
    pub inhomogeneous_fwhm_mev: f64,
    /// Biexciton binding energy Δ_XX, meV (27 meV from the seed paper's red-shift).
    #[serde(default = "default_biexciton_shift_mev")]
    pub biexciton_shift_mev: f64,
    /// Band-edge degeneracy g_d (≥ 1).
    #[serde(default = "default_degeneracy")]
    pub degeneracy: u32,
    /// `"lorentzian"` (default) or `"gaussian"`.
    #[serde(default)]
    pub line_shape: LineShape,
}

impl Default for Platelets {
    fn default() -> Self {
        Self {
            density_per_cm3: None,
            volume_fraction: None,
            volume_nm3: None,
            samples_per_cell: default_samples_per_cell(),
            radiative_lifetime_ps: default_radiative_lifetime_ps(),
            nonradiative_lifetime_ps: None,
            biexciton_lifetime_ps: default_biexciton_lifetime_ps(),
            auger_scaling: AugerScaling::Bimolecular,
            peak_cross_section_cm2: default_peak_cross_section_cm2(),
            emission_peak_nm: default_emission_peak_nm(),
            homogeneous_fwhm_mev: default_homogeneous_fwhm_mev(),
            inhomogeneous_fwhm_mev: 0.0,
            biexciton_shift_mev: default_biexciton_shift_mev(),
            degeneracy: default_degeneracy(),
            line_shape: LineShape::Lorentzian,
        }
    }
}

/// Pump profile across the stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PumpProfile {
    /// Uniform across the stripe width.
    #[default]
    Tophat,
    /// Gaussian across the stripe, FWHM = the stripe width.
    Gaussian,
}

/// The femtosecond stripe pump. The stripe runs along x and ends at the film edge
/// x = +length/2, where the detector is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pump {
    /// Pump fluence, µJ/cm²; or give `mean_excitons`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fluence_uj_cm2: Option<f64>,
    /// Mean excitons per platelet at the surface, set directly instead of a fluence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_excitons: Option<f64>,
    /// Pump wavelength, nm.
    #[serde(default = "default_pump_wavelength_nm")]
    pub wavelength_nm: f64,
    /// Platelet absorption cross-section at the pump wavelength, cm² (seed paper: 2.7e-13).
    #[serde(default = "default_pump_cross_section_cm2")]
    pub cross_section_cm2: f64,
    /// Stripe length along x, µm (≤ film.length_um).
    pub stripe_length_um: f64,
    /// Stripe width along y, µm (≤ film.width_um); the FWHM for a Gaussian profile.
    pub stripe_width_um: f64,
    /// `"tophat"` (default) or `"gaussian"` across the stripe.
    #[serde(default)]
    pub profile: PumpProfile,
    /// Reduce the fluence by the film's surface reflection (1 − R).
    #[serde(default)]
    pub surface_reflection: bool,
    /// Attenuate the pump with depth, exp(−ρ σ_pump z).
    #[serde(default)]
    pub depth_attenuation: bool,
}

/// The wavelength grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spectrum {
    #[serde(default = "default_spectrum_min_nm")]
    pub min_nm: f64,
    #[serde(default = "default_spectrum_max_nm")]
    pub max_nm: f64,
    #[serde(default = "default_spectrum_bins")]
    pub bins: u32,
}

impl Default for Spectrum {
    fn default() -> Self {
        Self {
            min_nm: default_spectrum_min_nm(),
            max_nm: default_spectrum_max_nm(),
            bins: default_spectrum_bins(),
        }
    }
}

/// The detector at the film edge x = +length/2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detector {
    /// Half angle of the acceptance cone around +x, degrees, in the cover medium.
    #[serde(default = "default_acceptance_half_angle_deg")]
    pub acceptance_half_angle_deg: f64,
}

impl Default for Detector {
    fn default() -> Self {
        Self {
            acceptance_half_angle_deg: default_acceptance_half_angle_deg(),
        }
    }
}

/// Cells of the film that hold the sampled platelets: a uniform grid over the film.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    #[serde(default = "default_cells_x")]
    pub cells_x: u32,
    #[serde(default = "one_u32")]
    pub cells_y: u32,
    #[serde(default = "one_u32")]
    pub cells_z: u32,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            cells_x: default_cells_x(),
            cells_y: 1,
            cells_z: 1,
        }
    }
}

pub(super) fn yes() -> bool {
    true
}
fn one_u32() -> u32 {
    1
}
fn default_samples_per_cell() -> u32 {
    200
}
fn default_radiative_lifetime_ps() -> f64 {
    5000.0
}
fn default_biexciton_lifetime_ps() -> f64 {
    50.0
}
fn default_peak_cross_section_cm2() -> f64 {
    7e-14
}
fn default_emission_peak_nm() -> f64 {
    480.0
}
fn default_homogeneous_fwhm_mev() -> f64 {
    40.0
}
fn default_biexciton_shift_mev() -> f64 {
    27.0
}
fn default_degeneracy() -> u32 {
    2
}
fn default_pump_wavelength_nm() -> f64 {
    400.0
}
fn default_pump_cross_section_cm2() -> f64 {
    2.7e-13
}
fn default_spectrum_min_nm() -> f64 {
    440.0
}
fn default_spectrum_max_nm() -> f64 {
    520.0
}
fn default_spectrum_bins() -> u32 {
    80
}
fn default_acceptance_half_angle_deg() -> f64 {
    10.0
}
fn default_cells_x() -> u32 {
    20
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

fn default_time_max_ps() -> f64 {
    100.0
}
fn default_time_bins() -> u32 {
    200
}
