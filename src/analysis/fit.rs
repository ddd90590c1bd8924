//! Fits of the two measurements the paper makes on a stripe-pumped film:
//!
//! - the net modal gain g from the variable-stripe-length curve
//!   `I(L) = A/g·(e^{gL} − 1)`;
//! - the ASE threshold from the light-in/light-out curve: a continuous two-line fit of
//!   the edge output vs fluence (the knee).
//!
//! Both are least squares on logarithmic residuals ln I − ln model, weighted by the
//! points' relative standard errors where the runs give them. The edge output
//! spans decades, and its Monte Carlo scatter is multiplicative and large above
//! threshold (rare, strongly amplified paths), so a point a factor of two above the
//! curve must weigh as much as one a factor of two below it. Least squares on
//! relative residuals weighted by the data, (I − model)/I, does not: a point far above
//! the curve costs at most 1, and such fits run below the data.
//!
//! For fixed g, ln A is the mean of ln I − ln((e^{gL} − 1)/g), so the gain fit is a
//! one-dimensional minimisation over g. For a fixed knee, the two-line coefficients
//! come from Gauss–Newton iterations (weighted linear least squares), so the threshold
//! fit is a search over the knee.
//!
//! Uncertainties are 95 % confidence half-widths: for the gain from the fit's
//! covariance with Student's t for the degrees of freedom left, for the knee from a
//! bootstrap: over the repeated runs at each fluence when there are repeats, otherwise
//! over the fit's residuals.

use crate::ase::replicas::relative_stderr;
use crate::rng::{Purpose, Stream};

/// Student's t at 97.5 % for `dof` degrees of freedom (two-sided 95 %).
pub fn t_975(dof: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match dof {
        0 => f64::INFINITY,
        1..=30 => TABLE[dof - 1],
        // Cornish–Fisher: z + (z³ + z)/(4ν).
        _ => 1.959_964 + 2.3735 / dof as f64,
    }
}

/// Minimise `f` on [a, b] by golden-section search to a relative tolerance of 1e-12.
fn golden(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    const R: f64 = 0.618_033_988_749_894_8;
    let mut c = b - R * (b - a);
    let mut d = a + R * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if (b - a).abs() <= 1e-12 * (a.abs() + b.abs()).max(1e-300) {
            break;
        }
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - R * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + R * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

/// Minimise `f` over [lo, hi]: the best of `grid` evenly spaced points, then golden
/// section within its neighbours.
fn minimise(f: impl Fn(f64) -> f64, lo: f64, hi: f64, grid: usize) -> f64 {
    let x = |i: usize| lo + (hi - lo) * i as f64 / grid as f64;
    let best =
        (0..=grid).map(|i| (i, f(x(i)))).fold(
            (0, f64::INFINITY),
            |b, (i, v)| if v < b.1 { (i, v) } else { b },
        );
    golden(&f, x(best.0.saturating_sub(1)), x((best.0 + 1).min(grid)))
}

/// (e^{gL} − 1)/g, equal to L at g = 0.
fn vsl_shape(g: f64, l: f64) -> f64 {
    let x = g * l;
    if x.abs() < 1e-8 {
        l * (1.0 + 0.5 * x)
    } else {
        x.exp_m1() / g
    }
}

/// d/dg of (e^{gL} − 1)/g.
fn vsl_shape_dg(g: f64, l: f64) -> f64 {
    let x = g * l;
    if x.abs() < 1e-4 {
        l * l * (0.5 + x / 3.0 + x * x / 8.0)
    } else {
        (l * x.exp() * g - x.exp_m1()) / (g * g)
    }
}

/// A fit of `I = A/g·(e^{gL} − 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct VslFit {
    /// Net modal gain, per unit of 1/L.
    pub gain: f64,
    /// 95 % confidence half-width of `gain`.
    pub gain_uncertainty: f64,
    pub amplitude: f64,
    /// Relative residuals (I − fit)/fit at every point.
    pub residuals: Vec<f64>,
}

impl VslFit {
    pub fn predict(&self, l: f64) -> f64 {
        self.amplitude * vsl_shape(self.gain, l)
    }
}

/// Fit `I = A/g·(e^{gL} − 1)` to stripe lengths `l` and outputs `y` (at least three
/// points with distinct positive lengths, every output positive), every point weighed
/// alike. `g` is searched within ±60/max(L).
pub fn fit_vsl(l: &[f64], y: &[f64]) -> Option<VslFit> {
    fit_vsl_weighted(l, y, None)
}

/// As [`fit_vsl`], with each output's relative standard error `rel_err` where known:
/// the log residuals are weighted by 1/rel_err², and the gain's uncertainty is
/// propagated from those errors (scaled up by √(χ²/dof) where the points scatter more
/// than their errors say).
pub fn fit_vsl_weighted(l: &[f64], y: &[f64], rel_err: Option<&[f64]>) -> Option<VslFit> {
    let n = l.len();
    let l_max = l.iter().fold(0.0f64, |m, v| m.max(*v));
    if n < 3 || l_max <= 0.0 || l.iter().any(|v| *v <= 0.0) || !y.iter().all(|v| *v > 0.0) {
        return None;
    }
    let w = log_weights(n, rel_err);
    let w_sum: f64 = w.iter().sum();
    let ln_y: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let ln_amplitude = |g: f64| {
        (0..n)
            .map(|i| w[i] * (ln_y[i] - vsl_shape(g, l[i]).ln()))
            .sum::<f64>()
            / w_sum
    };
    let cost = |g: f64| {
        let ln_a = ln_amplitude(g);
        (0..n)
            .map(|i| w[i] * (ln_y[i] - ln_a - vsl_shape(g, l[i]).ln()).powi(2))
            .sum::<f64>()
    };
    let g_span = 60.0 / l_max;
    let gain = minimise(cost, -g_span, g_span, 2400);
    let a = ln_amplitude(gain).exp();
    // Covariance of (ln A, g): (JᵀWJ)⁻¹ with J = (1, ∂ln shape/∂g), times s² = χ²/(n − 2)
    // (unit weights), or times max(1, χ²/(n − 2)) (weights from the errors).
    let (mut js, mut jgs, mut jgg) = (0.0, 0.0, 0.0);
    for (i, &li) in l.iter().enumerate() {
        let d = vsl_shape_dg(gain, li) / vsl_shape(gain, li);
        js += w[i];
        jgs += w[i] * d;
        jgg += w[i] * d * d;
    }
    let det = js * jgg - jgs * jgs;
    let reduced = cost(gain) / (n - 2) as f64;
    // With the errors taken as known the 95 % quantile is the normal's, unless the
    // scatter beyond them scales the covariance (then Student's t, as without them).
    let (scale, quantile) = if rel_err.is_some() && reduced <= 1.0 {
        (1.0, 1.96)
    } else {
        (reduced, t_975(n - 2))
    };
    let var_g = if det > 0.0 {
        scale * js / det
    } else {
        f64::INFINITY
    };
    let residuals = (0..n)
        .map(|i| {
            let m = a * vsl_shape(gain, l[i]);
            (y[i] - m) / m
        })
        .collect();
    Some(VslFit {
        gain,
        gain_uncertainty: quantile * var_g.sqrt(),
        amplitude: a,
        residuals,
    })
}

/// The weights 1/σ² of log residuals whose standard errors are the relative errors
/// `rel_err` (unit weights without them). The errors are estimated from the same few
/// runs as the values they weight: a point whose runs missed the rare bright one comes
/// out both low and with a small error, and weighting it by that error would pull
/// the fit low. So every error is taken as at least the median of the errors, and an
/// unknown one as the median; if none is known, every weight is 1.
pub fn log_weights(n: usize, rel_err: Option<&[f64]>) -> Vec<f64> {
    let Some(rel_err) = rel_err else {
        return vec![1.0; n];
    };
    let mut known: Vec<f64> = rel_err
        .iter()
        .copied()
        .filter(|e| e.is_finite() && *e > 0.0)
        .collect();
    if known.is_empty() {
        return vec![1.0; n];
    }
    known.sort_by(f64::total_cmp);
    let median = known[known.len() / 2];
    rel_err
        .iter()
        .map(|&e| {
            let e = if e.is_finite() { e.max(median) } else { median };
            e.powi(-2)
        })
        .collect()
}

/// A continuous two-line fit: `y = c0 + c1·x` below the knee, slope `c2` above it.
#[derive(Debug, Clone, PartialEq)]
pub struct KneeFit {
    pub knee: f64,
    /// 95 % confidence half-width of the knee (bootstrap over residuals or repeats).
    pub knee_uncertainty: f64,
    pub intercept: f64,
    pub slope_below: f64,
    pub slope_above: f64,
}

impl KneeFit {
    pub fn predict(&self, x: f64) -> f64 {
        self.intercept
            + self.slope_below * x.min(self.knee)
            + self.slope_above * (x - self.knee).max(0.0)
    }
}

/// Solve the 3×3 system `m·c = v` (Cramer's rule); `None` when singular.
fn solve3(m: [[f64; 3]; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(m);
    if d.abs() <= f64::MIN_POSITIVE {
        return None;
    }
    let mut c = [0.0; 3];
    for (k, ck) in c.iter_mut().enumerate() {
        let mut mk = m;
        for r in 0..3 {
            mk[r][k] = v[r];
        }
        *ck = det(mk) / d;
    }
    Some(c)
}

/// Weighted linear least squares of `z` on the two-line basis with its knee at `k`.
fn two_lines(x: &[f64], z: &[f64], w: &[f64], k: f64) -> Option<[f64; 3]> {
    let mut m = [[0.0; 3]; 3];
    let mut v = [0.0; 3];
    for i in 0..x.len() {
        let b = [1.0, x[i].min(k), (x[i] - k).max(0.0)];
        for r in 0..3 {
            v[r] += w[i] * b[r] * z[i];
            for c in 0..3 {
                m[r][c] += w[i] * b[r] * b[c];
            }
        }
    }
    solve3(m, v)
}

/// The two-line model with coefficients `c` and knee `k` at `x`.
fn two_line_value(c: [f64; 3], k: f64, x: f64) -> f64 {
    c[0] + c[1] * x.min(k) + c[2] * (x - k).max(0.0)
}

/// Σ w (ln y − ln model)²; infinite where the model is not positive.
fn log_cost(x: &[f64], ln_y: &[f64], lw: &[f64], c: [f64; 3], k: f64) -> f64 {
    (0..x.len())
        .map(|i| {
            let f = two_line_value(c, k, x[i]);
            if f > 0.0 {
                lw[i] * (ln_y[i] - f.ln()).powi(2)
            } else {
                f64::INFINITY
            }
        })
        .sum()
}

/// Gauss–Newton iterations for the two-line coefficients with the knee at `k`.
const GAUSS_NEWTON_STEPS: usize = 30;

/// The coefficients minimising Σ w (ln y − ln model)² with the knee at `k` (`lw` the
/// log residuals' weights), and that sum. Starts from relative least squares (weights
/// w/y²) and takes Gauss–Newton steps — weighted least squares on the working response
/// f·(1 + ln(y/f)) with weights w/f² — halving a step that does not lower the sum.
fn knee_at(x: &[f64], y: &[f64], ln_y: &[f64], lw: &[f64], k: f64) -> Option<([f64; 3], f64)> {
    let n = x.len();
    let w: Vec<f64> = (0..n).map(|i| lw[i] * y[i].powi(-2)).collect();
    let mut c = two_lines(x, y, &w, k)?;
    let mut cost = log_cost(x, ln_y, lw, c, k);
    if !cost.is_finite() {
        return None;
    }
    for _ in 0..GAUSS_NEWTON_STEPS {
        let f: Vec<f64> = x.iter().map(|&xi| two_line_value(c, k, xi)).collect();
        let z: Vec<f64> = (0..n).map(|i| f[i] * (1.0 + ln_y[i] - f[i].ln())).collect();
        let w: Vec<f64> = (0..n).map(|i| lw[i] * f[i].powi(-2)).collect();
        let Some(target) = two_lines(x, &z, &w, k) else {
            break;
        };
        let mut step = 1.0;
        let mut improved = false;
        while step > 1e-6 {
            let trial = [0, 1, 2].map(|j| c[j] + step * (target[j] - c[j]));
            let trial_cost = log_cost(x, ln_y, lw, trial, k);
            if trial_cost < cost {
                let converged = cost - trial_cost <= 1e-12 * cost.max(1e-300);
                c = trial;
                cost = trial_cost;
                improved = !converged;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }
    Some((c, cost))
}

/// The knee of `y(x)` with two points or more on either side, without uncertainty,
/// the log residuals weighted by `lw`.
fn knee_only(x: &[f64], y: &[f64], lw: &[f64]) -> Option<([f64; 3], f64)> {
    let n = x.len();
    let ln_y: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let cost = |k: f64| knee_at(x, y, &ln_y, lw, k).map_or(f64::INFINITY, |r| r.1);
    // The knee lies between the 2nd and the (n−1)th point (x sorted).
    let k = minimise(cost, x[1], x[n - 2], 400);
    knee_at(x, y, &ln_y, lw, k).map(|(c, _)| (c, k))
}

/// Fit a continuous two-line curve to (x, y), x ascending (at least four points, every y
/// positive), with a residual bootstrap of `resamples` refits for the knee's
/// uncertainty (keyed by `seed`).
pub fn fit_knee(x: &[f64], y: &[f64], resamples: u32, seed: u64) -> Option<KneeFit> {
    let n = x.len();
    // Four parameters: the knee and the three coefficients.
    let dof = n.saturating_sub(4);
    fit_knee_resampled(x, y, &vec![1.0; n], resamples, seed, dof, |fit, rng| {
        let model: Vec<f64> = x.iter().map(|&xi| fit.predict(xi)).collect();
        // Residuals of a fit are smaller than the scatter by √((n − p)/n) on average.
        let widen = (n as f64 / dof.max(1) as f64).sqrt();
        let log_residuals: Vec<f64> = (0..n).map(|i| widen * (y[i] / model[i]).ln()).collect();
        (0..n)
            .map(|i| {
                let j = ((rng.uniform() * n as f64) as usize).min(n - 1);
                model[i] * log_residuals[j].exp()
            })
            .collect()
    })
}

/// Fit a continuous two-line curve to the means of `repeats` (the outputs of
/// independent runs at each x, x ascending, at least four x), each mean's log residual
/// weighted by 1/(its relative standard error)², with a bootstrap over the runs for the
/// knee's uncertainty: each refit draws, at every x, as many runs as there are, with
/// replacement, and fits their means. The knee hangs mostly on the runs at
/// the first fluence or two above it, a handful of samples, so the interval is
/// Student's t for the fewest runs at any x, less one, times the bootstrap standard
/// deviation (a percentile interval from four runs is too narrow).
pub fn fit_knee_repeats(
    x: &[f64],
    repeats: &[Vec<f64>],
    resamples: u32,
    seed: u64,
) -> Option<KneeFit> {
    if repeats.len() != x.len() || repeats.iter().any(Vec::is_empty) {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let y: Vec<f64> = repeats.iter().map(|r| mean(r)).collect();
    let fewest = repeats.iter().map(Vec::len).min().unwrap_or(0);
    let rel_err: Vec<f64> = repeats.iter().map(|r| relative_stderr(r)).collect();
    fit_knee_resampled(
        x,
        &y,
        &log_weights(x.len(), Some(&rel_err)),
        resamples,
        seed,
        fewest.saturating_sub(1),
        |_, rng| {
            repeats
                .iter()
                .zip(&y)
                .map(|(r, &y_mean)| {
                    let n = r.len();
                    let draws: Vec<f64> = (0..n)
                        .map(|_| r[((rng.uniform() * n as f64) as usize).min(n - 1)])
                        .collect();
                    // The resampled mean spreads by √((n−1)/n) of the true standard
                    // error; widen it back (in log, which keeps it positive).
                    let widen = if n > 1 {
                        (n as f64 / (n - 1) as f64).sqrt()
                    } else {
                        1.0
                    };
                    y_mean * (mean(&draws) / y_mean).powf(widen)
                })
                .collect()
        },
    )
}

/// The two-line fit of (x, y) with log weights `lw`, with the knee's 95 % half-width:
/// Student's t for `dof` degrees of freedom times the standard deviation of
/// `resamples` refits of the data sets `resample` draws (given the fit and a random
/// stream keyed by `seed` and the refit's number).
fn fit_knee_resampled(
    x: &[f64],
    y: &[f64],
    lw: &[f64],
    resamples: u32,
    seed: u64,
    dof: usize,
    mut resample: impl FnMut(&KneeFit, &mut Stream) -> Vec<f64>,
) -> Option<KneeFit> {
    let n = x.len();
    if n < 4 || x.windows(2).any(|p| p[1] <= p[0]) || !y.iter().all(|v| *v > 0.0) {
        return None;
    }
    let (c, knee) = knee_only(x, y, lw)?;
    let fit = KneeFit {
        knee,
        knee_uncertainty: 0.0,
        intercept: c[0],
        slope_below: c[1],
        slope_above: c[2],
    };
    let mut knees = Vec::with_capacity(resamples as usize);
    for r in 0..resamples {
        let mut rng = Stream::new(seed, Purpose::Analysis, 0, 0, r);
        let y_star = resample(&fit, &mut rng);
        if y_star.iter().all(|v| *v > 0.0)
            && let Some((_, k)) = knee_only(x, &y_star, lw)
        {
            knees.push(k);
        }
    }
    let m = knees.len();
    let knee_uncertainty = if m < 20 {
        f64::NAN
    } else {
        let mean = knees.iter().sum::<f64>() / m as f64;
        let var = knees.iter().map(|k| (k - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
        t_975(dof) * var.sqrt()
    };
    Some(KneeFit {
        knee_uncertainty,
        ..fit
    })
}

/// Linear interpolation of y(x) at `at` (x ascending), clamped to the ends.
pub fn interpolate(x: &[f64], y: &[f64], at: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    if at <= x[0] {
        return y[0];
    }
    for i in 1..n {
        if at <= x[i] {
            let t = (at - x[i - 1]) / (x[i] - x[i - 1]);
            return y[i - 1] + t * (y[i] - y[i - 1]);
        }
    }
    y[n - 1]
}

/// The x of the steepest log–log rise of y(x): the geometric middle of the pair of
/// neighbouring points between which d ln y / d ln x is largest, with that slope.
pub fn steepest_loglog(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    (1..x.len())
        .filter(|&i| x[i - 1] > 0.0 && y[i - 1] > 0.0 && y[i] > 0.0)
        .map(|i| {
            let s = (y[i] / y[i - 1]).ln() / (x[i] / x[i - 1]).ln();
            ((x[i] * x[i - 1]).sqrt(), s)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Where a FWHM that starts broad first falls below half its value at the lowest x
/// (interpolated), if it does.
pub fn fwhm_collapse(x: &[f64], fwhm: &[f64]) -> Option<f64> {
    let half = 0.5 * *fwhm.first()?;
    (1..x.len()).find_map(|i| {
        (fwhm[i] < half && fwhm[i - 1] >= half).then(|| {
            let t = (fwhm[i - 1] - half) / (fwhm[i - 1] - fwhm[i]);
            x[i - 1] + t * (x[i] - x[i - 1])
        })
    })
}
