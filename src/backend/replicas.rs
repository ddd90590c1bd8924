//! The replicas of an ASE point: `run.replicas` of them, or, with
//! `run.target_relative_error`, as many more as the target quantity's error and the
//! checks of that error's reliability ask for, up to `run.max_replicas`.
//!
//! A precision-driven point adds replicas in batches whose sizes follow from the
//! replicas already run (never from threads or timing), so the replicas a point runs,
//! and its result, are the same on any machine.

use std::time::Instant;

use crate::ase::replicas::{MIN_REPLICAS_TO_STOP, Reliability};
use crate::ase::{AseOutput, AseSetup, report};
use crate::config::Config;
use crate::error::Result;
use crate::result::{PointResult, Scalar};

/// Run the replicas of `setup` (the point of `config`) through `run_ase` and report
/// the point, timed from `start`.
pub(super) fn run(
    config: &Config,
    setup: &AseSetup,
    run_ase: impl Fn(&[AseSetup]) -> Result<Vec<AseOutput>>,
    start: Instant,
) -> Result<PointResult> {
    let first = config.run.replicas;
    let batch =
        |from: u32, to: u32| -> Vec<AseSetup> { (from..to).map(|r| setup.replica(r)).collect() };
    let mut outs = run_ase(&batch(0, first))?;
    let quantity = config.run.target_quantity.as_str();
    let target = config.run.target_relative_error;
    // A fixed count runs exactly `run.replicas`.
    let most = if target.is_some() {
        config.run.max_replicas
    } else {
        first
    };
    loop {
        let mut result = report::point_result(setup, &outs, 0.0);
        let state = Precision::of(&result, quantity, target);
        let n = outs.len() as u32;
        if state.done(n, most) {
            result.wall_time_s = start.elapsed().as_secs_f64();
            state.record(&mut result, quantity, n, most);
            return Ok(result);
        }
        let more = state.more_replicas(n, first, most);
        outs.extend(run_ase(&batch(n, n + more))?);
    }
}

/// Where a precision-driven point stands: the target quantity's relative error and
/// the reliability of the error.
struct Precision {
    relative_error: f64,
    reliability: Reliability,
    /// `run.target_relative_error`, if the point is precision-driven.
    target: Option<f64>,
}

impl Precision {
    fn of(result: &PointResult, quantity: &str, target: Option<f64>) -> Self {
        let scalar = result
            .scalars
            .iter()
            .find(|s| s.name == quantity)
            .expect("run.target_quantity names a result (validated)");
        let relative_error = scalar.stderr.unwrap_or(f64::NAN) / scalar.value.abs();
        let values = result.replica_values(quantity);
        Self {
            relative_error: if relative_error.is_nan() {
                f64::INFINITY
            } else {
                relative_error
            },
            reliability: Reliability::of(&values),
            target,
        }
    }

    fn reached(&self) -> bool {
        self.target.is_none_or(|t| self.relative_error <= t)
    }

    /// Whether `n` replicas are enough: the target reached with the checks passed after
    /// the fewest replicas a stop may rest on, or the most replicas run.
    fn done(&self, n: u32, most: u32) -> bool {
        n >= most
            || (n as usize >= MIN_REPLICAS_TO_STOP
                && self.reached()
                && self.reliability.checks_pass())
    }

    /// The next batch of a precision-driven point (`target` set): the replicas the
    /// error's 1/√n scaling asks for, at least `first` and at most as many as have run
    /// (the estimate is rough), within `most`.
    fn more_replicas(&self, n: u32, first: u32, most: u32) -> u32 {
        let target = self
            .target
            .expect("only a precision-driven point adds replicas");
        let ratio = (self.relative_error / target).powi(2);
        let needed = if ratio.is_finite() {
            (f64::from(n) * ratio).ceil().min(f64::from(u32::MAX)) as u32
        } else {
            2 * n
        };
        needed
            .saturating_sub(n)
            .clamp(first, n)
            .max(1)
            .min(most - n)
    }

    /// What the point reached, in its scalars and its notes.
    fn record(&self, result: &mut PointResult, quantity: &str, n: u32, most: u32) {
        if n < 2 {
            result.notes.push(
                "one replica: no standard errors (set run.replicas ≥ 2, or run.target_relative_error)"
                    .to_string(),
            );
            return;
        }
        let r = &self.reliability;
        for (name, value, units) in [
            (
                "target_relative_error",
                self.target.unwrap_or(f64::NAN),
                "fraction",
            ),
            ("reached_relative_error", self.relative_error, "fraction"),
            ("variance_of_variance", r.vov, "fraction"),
            ("tail_index", r.tail_index, "power of 1/x"),
            (
                "variance_checks_passed",
                f64::from(u8::from(r.checks_pass())),
                "1 = yes",
            ),
        ] {
            result.scalars.push(Scalar {
                name: name.into(),
                value,
                stderr: None,
                units: units.into(),
            });
        }
        if let Some(target) = self.target
            && !self.reached()
        {
            result.notes.push(format!(
                "{quantity}: relative error {:.3} after run.max_replicas = {most} replicas, short of run.target_relative_error = {target}",
                self.relative_error
            ));
        }
        if !r.checks_pass() {
            let advice = if self.target.is_some() {
                "a larger run.max_replicas would tell"
            } else {
                "more run.replicas, or run.target_relative_error, would tell"
            };
            result.notes.push(format!(
                "{quantity}: the variance checks fail with {n} replicas ({}); its error bar is not reliable ({advice})",
                r.failures()
            ));
        }
    }
}
