//! Everything the ASE engine needs for one point, in internal units (cm, ps, eV).

use super::kinetics::Kinetics;
use super::lineshape::{Line, SpectralGrid};
use crate::config::{Config, PumpProfile};
use crate::error::{Error, Result};
use crate::transport::geometry::Stack;
use crate::transport::packet::Roulette;
use crate::units::{CM3_PER_NM3, HC_EV_NM, J_PER_EV, J_PER_UJ, PS_PER_FS, nm_to_cm, um_to_cm};

/// The uniform grid of cells over the film: x along the length, y across, z in depth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellGrid {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    /// Film half length and half width, thickness, cm.
    pub half_length: f64,
    pub half_width: f64,
    pub thickness: f64,
}

impl CellGrid {
    pub fn cells(&self) -> usize {
        self.nx * self.ny * self.nz
    }

    pub fn size(&self) -> [f64; 3] {
        [
            2.0 * self.half_length / self.nx as f64,
            2.0 * self.half_width / self.ny as f64,
            self.thickness / self.nz as f64,
        ]
    }

    pub fn volume(&self) -> f64 {
        let [a, b, c] = self.size();
        a * b * c
    }

    /// Cell coordinates (ix, iy, iz) of a point in the film (clamped to the grid).
    pub fn coords(&self, pos: [f64; 3]) -> [usize; 3] {
        let [dx, dy, dz] = self.size();
        let f = |v: f64, d: f64, n: usize| ((v / d).floor().max(0.0) as usize).min(n - 1);
        [
            f(pos[0] + self.half_length, dx, self.nx),
            f(pos[1] + self.half_width, dy, self.ny),
            f(pos[2], dz, self.nz),
        ]
    }

    pub fn index(&self, [ix, iy, iz]: [usize; 3]) -> usize {
        (iz * self.ny + iy) * self.nx + ix
    }

    /// The lower corner of cell (ix, iy, iz), cm.
    pub fn corner(&self, [ix, iy, iz]: [usize; 3]) -> [f64; 3] {
        let [dx, dy, dz] = self.size();
        [
            -self.half_length + ix as f64 * dx,
            -self.half_width + iy as f64 * dy,
            iz as f64 * dz,
        ]
    }

    pub fn coords_of_index(&self, c: usize) -> [usize; 3] {
        [
            c % self.nx,
            (c / self.nx) % self.ny,
            c / (self.nx * self.ny),
        ]
    }
}

/// The stripe pump.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PumpSpot {
    /// ⟨N⟩ at the film surface in the stripe (on the axis for a Gaussian profile).
    pub mean_excitons: f64,
    /// Stripe x range, cm: [x_start, film edge].
    pub x_start: f64,
    pub x_end: f64,
    /// Half width (top-hat) or half width at half maximum (Gaussian), cm.
    pub half_width: f64,
    pub profile: PumpProfile,
    /// Pump attenuation coefficient ρ·σ_pump, cm⁻¹ (0 when depth attenuation is off).
    pub alpha: f64,
}

impl PumpSpot {
    /// ⟨N⟩ at a position in the film.
    pub fn mean_at(&self, [x, y, z]: [f64; 3]) -> f64 {
        if x < self.x_start || x > self.x_end {
            return 0.0;
        }
        let across = match self.profile {
            PumpProfile::Tophat => f64::from(u8::from(y.abs() <= self.half_width)),
            PumpProfile::Gaussian => {
                (-std::f64::consts::LN_2 * (y / self.half_width).powi(2)).exp()
            }
        };
        self.mean_excitons * across * (-self.alpha * z).exp()
    }

    /// Is a position in the stripe (the region whose populations are reported)?
    pub fn contains(&self, [x, y, _]: [f64; 3]) -> bool {
        x >= self.x_start && x <= self.x_end && y.abs() <= self.half_width
    }

    /// The stripe's centre in the film plane.
    pub fn centre(&self) -> [f64; 2] {
        [0.5 * (self.x_start + self.x_end), 0.0]
    }
}

/// The optical transitions of the platelets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optics {
    /// Peak cross-section σ₀, cm².
    pub sigma0: f64,
    pub line: Line,
    /// Biexciton binding energy Δ_XX, eV.
    pub biexciton_shift_ev: f64,
    pub degeneracy: u32,
    /// Mean single-exciton transition energy, eV, and the inhomogeneous standard deviation.
    pub mean_energy_ev: f64,
    pub inhomogeneous_sigma_ev: f64,
}

impl Optics {
    /// Energy of the line a platelet holding n excitons emits on (n → n−1).
    #[inline]
    pub fn emission_energy(&self, e_i: f64, n: u32) -> f64 {
        if n <= 1 {
            e_i
        } else {
            e_i - self.biexciton_shift_ev
        }
    }

    /// Energy of the line a platelet holding n excitons absorbs on (n → n+1).
    #[inline]
    pub fn absorption_energy(&self, e_i: f64, n: u32) -> f64 {
        if n == 0 {
            e_i
        } else {
            e_i - self.biexciton_shift_ev
        }
    }

    /// Stimulated-emission strength min(n, g_d)/g_d.
    #[inline]
    pub fn emission_factor(&self, n: u32) -> f64 {
        f64::from(n.min(self.degeneracy)) / f64::from(self.degeneracy)
    }

    /// Absorption strength max(0, 1 − n/g_d).
    #[inline]
    pub fn absorption_factor(&self, n: u32) -> f64 {
        (1.0 - f64::from(n) / f64::from(self.degeneracy)).max(0.0)
    }

    /// The count that stands for `n` in the platelet's lines: every count at or above
    /// max(g_d, 2) gives the same emission and absorption lines and strengths.
    #[inline]
    pub fn line_count(&self, n: u32) -> u32 {
        n.min(self.degeneracy.max(2))
    }

    /// σ_e/σ₀ of a platelet at photon energy `e`.
    #[inline]
    pub fn stimulated(&self, e_i: f64, n: u32, e: f64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        self.line.phi(e - self.emission_energy(e_i, n)) * self.emission_factor(n)
    }

    /// σ_a/σ₀ of a platelet at photon energy `e`.
    #[inline]
    pub fn absorbing(&self, e_i: f64, n: u32, e: f64) -> f64 {
        if n >= self.degeneracy {
            return 0.0;
        }
        self.line.phi(e - self.absorption_energy(e_i, n)) * self.absorption_factor(n)
    }
}

/// FWHM / standard deviation of a Gaussian, 2√(2 ln 2).
const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949_4;

/// One point of the ASE engine.
#[derive(Debug, Clone, PartialEq)]
pub struct AseSetup {
    pub stack: Stack,
    pub grid: CellGrid,
    pub spectrum: SpectralGrid,
    pub optics: Optics,
    pub kinetics: Kinetics,
    pub pump: PumpSpot,
    /// Platelet number density, cm⁻³.
    pub density: f64,
    pub samples_per_cell: usize,
    /// Real platelets each sampled platelet stands for: ρ·V_cell/N_cell.
    pub platelet_weight: f64,
    pub dt_ps: f64,
    /// Simulated time: `run.duration_ps` rounded up to whole steps of `dt_ps`.
    pub duration_ps: f64,
    /// cos of the detector's acceptance half angle (in the cover medium).
    pub detector_cos: f64,
    pub seed: u64,
    pub frozen: bool,
    pub coupled: bool,
    pub packets_per_step: u32,
    /// The largest share of a cell's excitons (or room) one step may exchange before
    /// the next step is shortened.
    pub max_exchange_fraction: f64,
    /// cos of `run.axial_cone_deg`, when spontaneous directions are stratified.
    pub axial_cone_cos: Option<f64>,
    pub roulette: Roulette,
    /// Check the engine's invariants every step (each cell's summary against its
    /// platelets): on in debug builds, and where a test asks for them.
    pub check_invariants: bool,
    pub time_bins: usize,
}

impl AseSetup {
    /// The setup of replica `replica`: the same point with its own random streams
    /// (`rng::replica_seed`), replica 0 being the point as configured.
    pub fn replica(&self, replica: u32) -> AseSetup {
        AseSetup {
            seed: crate::rng::replica_seed(self.seed, replica),
            ..self.clone()
        }
    }

    pub fn from_config(c: &Config) -> Result<Self> {
        let missing = |what: &str| Error::Runtime(format!("the pump source needs {what}"));
        let pump = c.pump.as_ref().ok_or_else(|| missing("a [pump] table"))?;
        let p = &c.platelets;
        let density = match (p.density_per_cm3, p.volume_fraction, p.volume_nm3) {
            (Some(rho), _, _) => rho,
            (None, Some(f), Some(v)) => f / (v * CM3_PER_NM3),
            _ => return Err(missing("a platelet density")),
        };
        let grid = CellGrid {
            nx: c.grid.cells_x as usize,
            ny: c.grid.cells_y as usize,
            nz: c.grid.cells_z as usize,
            half_length: 0.5 * um_to_cm(c.film.length_um),
            half_width: 0.5 * um_to_cm(c.film.width_um),
            thickness: nm_to_cm(c.film.thickness_nm),
        };
        let samples_per_cell = p.samples_per_cell as usize;
        let photon_energy_j = HC_EV_NM / pump.wavelength_nm * J_PER_EV;
        let reflection = if pump.surface_reflection {
            crate::transport::fresnel::normal_reflectance(
                c.cover.refractive_index,
                c.film.refractive_index,
            )
        } else {
            0.0
        };
        let mean_excitons = match (pump.mean_excitons, pump.fluence_uj_cm2) {
            (Some(n), _) => n,
            (None, Some(f)) => {
                pump.cross_section_cm2 * (1.0 - reflection) * f * J_PER_UJ / photon_energy_j
            }
            _ => return Err(missing("pump.fluence_uj_cm2 or pump.mean_excitons")),
        };
        let half_length = grid.half_length;
        let dt_ps = c.run.time_step_fs * PS_PER_FS;
        Ok(Self {
            stack: Stack::from_config(c),
            grid,
            spectrum: SpectralGrid::from_config(&c.spectrum),
            optics: Optics {
                sigma0: p.peak_cross_section_cm2,
                line: Line {
                    shape: p.line_shape,
                    hwhm_ev: 0.5e-3 * p.homogeneous_fwhm_mev,
                },
                biexciton_shift_ev: 1e-3 * p.biexciton_shift_mev,
                degeneracy: p.degeneracy,
                mean_energy_ev: HC_EV_NM / p.emission_peak_nm,
                inhomogeneous_sigma_ev: 1e-3 * p.inhomogeneous_fwhm_mev / FWHM_PER_SIGMA,
            },
            kinetics: Kinetics::from_config(p),
            pump: PumpSpot {
                mean_excitons,
                x_start: half_length - um_to_cm(pump.stripe_length_um),
                x_end: half_length,
                half_width: 0.5 * um_to_cm(pump.stripe_width_um),
                profile: pump.profile,
                alpha: if pump.depth_attenuation {
                    density * pump.cross_section_cm2
                } else {
                    0.0
                },
            },
            density,
            samples_per_cell,
            platelet_weight: density * grid.volume() / samples_per_cell as f64,
            dt_ps,
            duration_ps: c.run.steps() as f64 * dt_ps,
            detector_cos: c.detector.acceptance_half_angle_deg.to_radians().cos(),
            seed: c.run.seed,
            frozen: c.run.freeze_populations,
            coupled: c.run.stimulated_emission,
            packets_per_step: c.run.packets_per_step,
            max_exchange_fraction: c.run.max_exchange_fraction,
            axial_cone_cos: (c.run.axial_cone_deg > 0.0)
                .then(|| c.run.axial_cone_deg.to_radians().cos()),
            check_invariants: cfg!(debug_assertions),
            roulette: Roulette {
                threshold: c.run.roulette_weight,
                survival: c.run.roulette_survival,
            },
            time_bins: c.tally.time_bins as usize,
        })
    }
}

/// A two-cell point of the ASE engine (a 20 × 20 µm piece of a 150 nm film, 4 sampled
/// platelets a cell, pumped at 2.7 µJ/cm²) for the unit tests, with `run` keys added
/// from `run_table` (TOML lines).
#[cfg(test)]
pub(crate) fn tiny_setup(run_table: &str) -> AseSetup {
    let text = format!(
        "[film]\nthickness_nm = 150.0\nrefractive_index = 1.75\nlength_um = 20.0\nwidth_um = 20.0\n\
         [source]\nkind = \"pump\"\n[platelets]\ndensity_per_cm3 = 3e17\nsamples_per_cell = 4\n\
         [pump]\nfluence_uj_cm2 = 2.7\nstripe_length_um = 20.0\nstripe_width_um = 20.0\n\
         [grid]\ncells_x = 2\ncells_y = 1\n[run]\n{run_table}"
    );
    let resolved =
        crate::config::from_text(std::path::Path::new("test.toml"), &text, &[]).expect("config");
    AseSetup::from_config(&resolved.points[0]).expect("setup")
}
