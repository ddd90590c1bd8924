//! Statistics over the independent replicas of a point: means and standard errors,
//! jackknife errors of quantities derived from the pooled result (a spectrum's peak
//! and width), and the checks of a standard error's own reliability that decide when
//! a precision-driven point may stop.
//!
//! Amplified output is heavy-tailed: a replica in which a few spontaneous photons
//! happened to start along the stripe can outshine the others many times over. A
//! sample variance computed from few replicas then often comes out small, and a run
//! stopped on it alone stops too early. The checks follow MCNP's statistical checks
//! of a tally (X-5 Monte Carlo Team, MCNP manual, vol. I, §2.6.9): the relative
//! variance of the variance (VOV) below 0.1, and the density of the replicas' upper
//! tail falling faster than 1/x³ (a Hill estimate of the survival function's tail
//! index α above 2; the density then falls as 1/x^(α+1)), so that the variance the
//! error rests on exists. Too few replicas to judge fail the checks.

/// The mean of `values` and its standard error (the sample standard deviation over
/// √n; NaN for fewer than two values).
pub fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The standard error of the mean of `values` relative to that mean.
pub fn relative_stderr(values: &[f64]) -> f64 {
    let (mean, stderr) = mean_and_stderr(values);
    stderr / mean.abs()
}

/// The element-wise mean of equally long rows and each element's standard error.
pub fn rows_mean_and_stderr(rows: &[&[f64]]) -> (Vec<f64>, Vec<f64>) {
    let len = rows.first().map_or(0, |r| r.len());
    assert!(
        rows.iter().all(|r| r.len() == len),
        "replicas' arrays differ in length"
    );
    (0..len)
        .map(|i| {
            let column: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            mean_and_stderr(&column)
        })
        .unzip()
}

/// A quantity `derive`d from the mean of `rows` (all replicas pooled), with its
/// jackknife standard error: √((n−1)/n · Σ (θ₋ᵢ − θ̄₋)²) over the n leave-one-out
/// pools θ₋ᵢ (Efron & Tibshirani, "An Introduction to the Bootstrap", §11). NaN where
/// fewer than two replicas or a leave-one-out pool has no value.
pub fn jackknife(rows: &[&[f64]], derive: impl Fn(&[f64]) -> Option<f64>) -> (f64, f64) {
    let n = rows.len();
    let len = rows.first().map_or(0, |r| r.len());
    let total: Vec<f64> = (0..len).map(|i| rows.iter().map(|r| r[i]).sum()).collect();
    let pooled =
        |sum: &[f64], count: usize| -> Vec<f64> { sum.iter().map(|s| s / count as f64).collect() };
    let value = derive(&pooled(&total, n)).unwrap_or(f64::NAN);
    if n < 2 {
        return (value, f64::NAN);
    }
    let mut left_out = Vec::with_capacity(n);
    for row in rows {
        let rest: Vec<f64> = total.iter().zip(row.iter()).map(|(t, r)| t - r).collect();
        match derive(&pooled(&rest, n - 1)) {
            Some(v) if v.is_finite() => left_out.push(v),
            _ => return (value, f64::NAN),
        }
    }
    let mean = left_out.iter().sum::<f64>() / n as f64;
    let ss: f64 = left_out.iter().map(|v| (v - mean).powi(2)).sum();
    (value, ((n - 1) as f64 / n as f64 * ss).sqrt())
}

/// The largest VOV a stopping error may have (MCNP's check).
pub const MAX_VOV: f64 = 0.1;
/// The smallest Hill tail index α (of the survival function) a stopping error may
/// have: the density of the replicas' upper tail falls faster than 1/x³, so their
/// variance exists (MCNP's slope check).
pub const MIN_TAIL_INDEX: f64 = 2.0;
/// Replicas a point needs before its checks can pass (below, the VOV and the tail
/// are too few numbers to judge: for 2 or 3 replicas the VOV is fixed by n alone).
pub const MIN_REPLICAS_TO_STOP: usize = 8;

/// How reliable a mean's standard error is, from its replicas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reliability {
    /// Replicas judged.
    pub replicas: usize,
    /// Relative variance of the variance: Σ(x−x̄)⁴ / (Σ(x−x̄)²)² − 1/n; NaN where a
    /// replica has no value.
    pub vov: f64,
    /// Hill's estimate of the upper tail index α, P(X > x) ~ x^−α, from the largest
    /// quarter of the replicas (at least 4 of them); infinite where they do not
    /// spread, NaN where there are too few positive values to tell.
    pub tail_index: f64,
}

impl Reliability {
    /// The reliability of the mean of `values`.
    pub fn of(values: &[f64]) -> Self {
        let replicas = values.len();
        if values.iter().any(|v| !v.is_finite()) {
            return Self {
                replicas,
                vov: f64::NAN,
                tail_index: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / replicas as f64;
        let d2: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let d4: f64 = values.iter().map(|v| (v - mean).powi(4)).sum();
        let vov = if d2 > 0.0 {
            d4 / (d2 * d2) - 1.0 / replicas as f64
        } else {
            0.0
        };
        Self {
            replicas,
            vov,
            tail_index: hill_tail_index(values),
        }
    }

    /// Whether the variance checks pass: enough replicas, the VOV and the tail (a
    /// value that cannot be told fails).
    pub fn checks_pass(&self) -> bool {
        self.replicas >= MIN_REPLICAS_TO_STOP && self.vov_passes() && self.tail_passes()
    }

    /// The VOV is below [`MAX_VOV`] (NaN is not).
    fn vov_passes(&self) -> bool {
        self.vov < MAX_VOV
    }

    /// The tail index is above [`MIN_TAIL_INDEX`] (NaN is not).
    fn tail_passes(&self) -> bool {
        self.tail_index > MIN_TAIL_INDEX
    }

    /// What failed, for the log and the file ("" when the checks pass).
    pub fn failures(&self) -> String {
        let mut failed = Vec::new();
        if self.replicas < MIN_REPLICAS_TO_STOP {
            failed.push(format!(
                "{} replicas are too few to judge (at least {MIN_REPLICAS_TO_STOP})",
                self.replicas
            ));
        }
        if !self.vov_passes() {
            failed.push(format!(
                "the variance of the variance is {:.3} (not below {MAX_VOV})",
                self.vov
            ));
        }
        if !self.tail_passes() {
            failed.push(format!(
                "the replicas' upper tail falls as x^−{:.2} (an index not above {MIN_TAIL_INDEX}: the variance may not exist)",
                self.tail_index
            ));
        }
        failed.join("; ")
    }
}

/// Hill's estimator of the tail index α (P(X > x) ~ x^−α) from the k largest of the
/// positive `values`, k = max(4, n/4): k / Σ ln(x₍ᵢ₎/x₍ₖ₊₁₎). Infinite where the top
/// values do not spread; NaN where too few of the values are positive to tell (a
/// heavy tail over zeros is what it must not pass).
fn hill_tail_index(values: &[f64]) -> f64 {
    let mut positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    positive.sort_by(|a, b| b.total_cmp(a));
    let k = (values.len() / 4).max(4);
    if positive.len() <= k {
        return f64::NAN;
    }
    let floor = positive[k];
    let sum: f64 = positive[..k].iter().map(|x| (x / floor).ln()).sum();
    if sum > 0.0 {
        k as f64 / sum
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_error_is_the_spread_over_root_n() {
        let (m, e) = mean_and_stderr(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        // s² = 5/3, s/√4.
        assert!((e - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-15);
        assert!(mean_and_stderr(&[7.0]).1.is_nan());
    }

    #[test]
    fn the_jackknife_of_a_mean_is_its_standard_error() {
        // For a linear statistic the jackknife reproduces s/√n exactly.
        let rows: Vec<Vec<f64>> = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0]
            .iter()
            .map(|&v| vec![v, 2.0 * v])
            .collect();
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let (v, e) = jackknife(&refs, |pool| Some(pool[1]));
        let (m, s) = mean_and_stderr(&rows.iter().map(|r| r[1]).collect::<Vec<_>>());
        assert!(
            (v - m).abs() < 1e-12 && (e - s).abs() < 1e-12,
            "{v} {e} {m} {s}"
        );
    }

    #[test]
    fn a_heavy_tail_fails_the_checks_and_a_light_one_passes() {
        // Quantiles of a Pareto tail of index 1.5 and of a uniform spread.
        let n = 64;
        let pareto: Vec<f64> = (0..n)
            .map(|i| (1.0 - (i as f64 + 0.5) / n as f64).powf(-1.0 / 1.5))
            .collect();
        let uniform: Vec<f64> = (0..n).map(|i| 10.0 + (i as f64 + 0.5) / n as f64).collect();
        let heavy = Reliability::of(&pareto);
        let light = Reliability::of(&uniform);
        assert!(!heavy.checks_pass(), "{heavy:?}");
        assert!((heavy.tail_index - 1.5).abs() < 0.5, "{heavy:?}");
        assert!(light.checks_pass(), "{light:?}");
        // Too few to judge, a heavy tail over zeros, a missing value: all fail.
        assert!(!Reliability::of(&uniform[..4]).checks_pass());
        let mut zeros = vec![0.0; 6];
        zeros.extend([1e6, 2e6]);
        assert!(!Reliability::of(&zeros).checks_pass());
        let mut missing = uniform.clone();
        missing[3] = f64::NAN;
        assert!(!Reliability::of(&missing).checks_pass());
    }
}
