//! The `[run]` table: seeds, replicas and precision, time stepping and variance
//! reduction.

use serde::{Deserialize, Serialize};

use super::schema::yes;

/// Run control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Seed of every random stream of the run (0 … 2⁶⁴−1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Pump source: time step, fs.
    #[serde(default = "default_time_step_fs")]
    pub time_step_fs: f64,
    /// Pump source: simulated time after the pump pulse, ps.
    #[serde(default = "default_duration_ps")]
    pub duration_ps: f64,
    /// Pump source: keep every platelet's exciton count fixed (small-signal checks).
    #[serde(default)]
    pub freeze_populations: bool,
    /// Pump source: couple photons to platelets (stimulated emission and absorption).
    #[serde(default = "yes")]
    pub stimulated_emission: bool,
    /// Pump source: packets launched per time step carrying the film's spontaneous
    /// emission.
    #[serde(default = "default_packets_per_step")]
    pub packets_per_step: u32,
    /// Pump source: the largest share of a cell's excitons (or of its room for more)
    /// that one step's photons may exchange before the next step is shortened.
    #[serde(default = "default_max_exchange_fraction")]
    pub max_exchange_fraction: f64,
    /// Pump source: half-angle of the cones around ±x (the stripe's axis) in which
    /// every spontaneous packet also gets a sub-packet (0: isotropic packets only).
    #[serde(default = "default_axial_cone_deg")]
    pub axial_cone_deg: f64,
    /// Packets fainter than this weight (relative to launch) play Russian roulette.
    #[serde(default = "default_roulette_weight")]
    pub roulette_weight: f64,
    /// Survival probability of Russian roulette; survivors' weight is divided by it.
    #[serde(default = "default_roulette_survival")]
    pub roulette_survival: f64,
    /// Pump source: independent replicas of each point (the whole coupled platelet–
    /// photon system, each with its own random streams); the results are their means
    /// with standard errors from their scatter.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// Pump source: add replicas until the relative standard error of
    /// `run.target_quantity` is at most this (and the variance checks pass), up to
    /// `run.max_replicas`; unset: exactly `run.replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_relative_error: Option<f64>,
    /// Pump source: the scalar result whose error `run.target_relative_error` bounds.
    #[serde(default = "default_target_quantity")]
    pub target_quantity: String,
    /// Pump source: the most replicas a precision-driven point runs.
    #[serde(default = "default_max_replicas")]
    pub max_replicas: u32,
}

impl Run {
    /// Time steps of `run.time_step_fs` that cover `run.duration_ps` (the pump source's
    /// nominal step count; saturation can shorten steps).
    pub fn steps(&self) -> u64 {
        (self.duration_ps / (self.time_step_fs * crate::units::PS_PER_FS)).ceil() as u64
    }
}

impl Default for Run {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            time_step_fs: default_time_step_fs(),
            duration_ps: default_duration_ps(),
            freeze_populations: false,
            stimulated_emission: true,
            packets_per_step: default_packets_per_step(),
            max_exchange_fraction: default_max_exchange_fraction(),
            axial_cone_deg: default_axial_cone_deg(),
            roulette_weight: default_roulette_weight(),
            roulette_survival: default_roulette_survival(),
            replicas: default_replicas(),
            target_relative_error: None,
            target_quantity: default_target_quantity(),
            max_replicas: default_max_replicas(),
        }
    }
}

fn default_seed() -> u64 {
    1
}
fn default_time_step_fs() -> f64 {
    20.0
}
fn default_duration_ps() -> f64 {
    200.0
}
/// Isotropic packets: at a finite budget above threshold the cones bias the edge output
/// more and cost more (docs/performance.md, "The axial cones").
fn default_axial_cone_deg() -> f64 {
    0.0
}
fn default_max_exchange_fraction() -> f64 {
    1.0
}
fn default_packets_per_step() -> u32 {
    64
}
/// MCML's roulette threshold (Wang, Jacques & Zheng, CMPB 47, 131 (1995)).
fn default_roulette_weight() -> f64 {
    1e-4
}
/// MCML's roulette survival chance (1 in 10).
fn default_roulette_survival() -> f64 {
    0.1
}
/// Eight replicas: a standard error good to about a quarter of itself (1/√(2·7)).
fn default_replicas() -> u32 {
    8
}
fn default_target_quantity() -> String {
    "edge_photons".into()
}
fn default_max_replicas() -> u32 {
    256
}
