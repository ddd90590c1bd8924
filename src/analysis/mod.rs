//! Analysis of finished runs: the ASE threshold from a fluence sweep and the net modal
//! gain from a stripe-length sweep, from the points' integrated edge output.

pub mod fit;

use serde_json::{Value, json};

use crate::ase::replicas::relative_stderr;

use crate::output::PointRecord;
use fit::{
    KneeFit, VslFit, fit_knee, fit_knee_repeats, fit_vsl_weighted, fwhm_collapse, interpolate,
    steepest_loglog,
};

/// The swept key of a light-in/light-out measurement.
pub const FLUENCE_KEY: &str = "pump.fluence_uj_cm2";
/// The swept key of a variable-stripe-length measurement.
pub const LENGTH_KEY: &str = "pump.stripe_length_um";
/// Swept keys whose points are repeats (averaged) rather than another measurement.
pub const REPEAT_KEY: &str = "run.seed";
/// Bootstrap refits for the threshold's uncertainty.
const BOOTSTRAP_RESAMPLES: u32 = 400;
/// Relative shortfall of the longest stripes below the fitted exponential that is
/// reported as gain saturation.
const SATURATION_SHORTFALL: f64 = 0.1;

/// Options of `asemc fit`.
#[derive(Debug, Clone, Default)]
pub struct FitOptions {
    /// Stripe lengths used by the gain fit, µm (inclusive).
    pub min_length_um: Option<f64>,
    pub max_length_um: Option<f64>,
}

/// The ASE threshold from a fluence sweep.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub fit: KneeFit,
    /// The fluences of the sweep on either side of the knee: above threshold the edge
    /// output is a cliff of decades, so the knee is only known to lie between them
    /// unless the sweep samples the gap.
    pub bracket: (f64, f64),
    /// 95 % half-width of the threshold: the bootstrap's (`fit.knee_uncertainty`) and
    /// the bracket's, 0.475 of its width for a knee anywhere in it, in quadrature.
    pub uncertainty: f64,
    /// ⟨N⟩ at the threshold, interpolated from the points' initial mean exciton number.
    pub mean_excitons: f64,
    /// Cross-checks: the middle of the steepest log–log rise and its slope, and where
    /// the edge FWHM falls below half its lowest-fluence value.
    pub steepest: Option<(f64, f64)>,
    pub fwhm_collapse: Option<f64>,
    pub method: String,
    /// (fluence, mean edge output) of every fluence, ascending.
    pub curve: Vec<(f64, f64)>,
}

/// The net modal gain from a stripe-length sweep.
#[derive(Debug, Clone)]
pub struct Gain {
    /// Fit in cm (lengths) and cm⁻¹ (gain).
    pub fit: VslFit,
    pub range_um: (f64, f64),
    /// (length µm, mean edge output) of every length, ascending.
    pub curve: Vec<(f64, f64)>,
}

/// Everything `asemc fit` finds in a file.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub threshold: Option<Threshold>,
    pub gain: Option<Gain>,
    pub warnings: Vec<String>,
}

fn scalar(p: &PointRecord, name: &str) -> Option<f64> {
    p.scalars.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

fn param(p: &PointRecord, key: &str) -> Option<f64> {
    p.params.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// The values of `f` at each value of `key` (the points' at one value together),
/// ascending in it.
fn grouped(
    points: &[PointRecord],
    key: &str,
    f: impl Fn(&PointRecord) -> Vec<f64>,
) -> Vec<(f64, Vec<f64>)> {
    let mut pairs: Vec<(f64, Vec<f64>)> = points
        .iter()
        .filter_map(|p| Some((param(p, key)?, f(p))))
        .filter(|(_, ys)| !ys.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, Vec<f64>)> = Vec::new();
    for (x, ys) in pairs {
        match out.last_mut() {
            Some(last) if last.0 == x => last.1.extend(ys),
            _ => out.push((x, ys)),
        }
    }
    out
}

/// The independent runs of the named scalar at each value of `key`, ascending in it:
/// every replica of every point there (repeats over seeds together), or each point's
/// value where the file has no replicas' table.
pub(crate) fn repeats(points: &[PointRecord], key: &str, name: &str) -> Vec<(f64, Vec<f64>)> {
    grouped(points, key, |p| {
        let replicas = p.replica_values(name);
        if replicas.is_empty() {
            scalar(p, name).into_iter().collect()
        } else {
            replicas
        }
    })
}

/// The replicas of point `p` (1 for a file without them).
fn replicas_of(p: &PointRecord) -> f64 {
    scalar(p, "replicas").unwrap_or(1.0)
}

/// The named scalar at each value of `key`, ascending in it: the mean over the points
/// there, each weighted by its replicas (for a mean over replicas, the pooled mean of
/// every replica at that value).
pub(crate) fn curve(points: &[PointRecord], key: &str, name: &str) -> Vec<(f64, f64)> {
    grouped(points, key, |p| {
        scalar(p, name)
            .map(|v| vec![v * replicas_of(p), replicas_of(p)])
            .unwrap_or_default()
    })
    .into_iter()
    .map(|(x, pairs)| {
        let (sum, weight) = pairs
            .chunks(2)
            .fold((0.0, 0.0), |(s, w), p| (s + p[0], w + p[1]));
        (x, sum / weight)
    })
    .collect()
}

/// The standard error of [`curve`]'s mean at each value of `key`, from the points'
/// `NAME_stderr` (√(Σ wᵢ² σᵢ²)/Σ wᵢ with the replicas as weights; NaN where a point
/// there has no error).
pub(crate) fn curve_stderr(points: &[PointRecord], key: &str, name: &str) -> Vec<(f64, f64)> {
    let err = format!("{name}_stderr");
    grouped(points, key, |p| {
        let sigma = scalar(p, &err).unwrap_or(f64::NAN);
        if scalar(p, name).is_some() {
            vec![sigma, replicas_of(p)]
        } else {
            Vec::new()
        }
    })
    .into_iter()
    .map(|(x, pairs)| {
        let (var, weight) = pairs.chunks(2).fold((0.0, 0.0), |(v, w), p| {
            (v + (p[0] * p[1]).powi(2), w + p[1])
        });
        (x, var.sqrt() / weight)
    })
    .collect()
}

/// The points of `curve` with edge output (the fits are on its logarithm); a warning
/// names those left out.
fn positive(
    curve: Vec<(f64, f64)>,
    what: &str,
    unit: &str,
    warnings: &mut Vec<String>,
) -> Vec<(f64, f64)> {
    let (kept, empty): (Vec<_>, Vec<_>) = curve.into_iter().partition(|p| p.1 > 0.0);
    if !empty.is_empty() {
        let list: Vec<String> = empty.iter().map(|p| format!("{} {unit}", p.0)).collect();
        warnings.push(format!(
            "no edge output at {what} {}; left out of the fit (more packets per step would resolve it)",
            list.join(", ")
        ));
    }
    kept
}

/// Fit what the swept keys allow; an error message says which sweep is needed.
pub fn analyse(
    points: &[PointRecord],
    swept_keys: &[String],
    opts: &FitOptions,
    seed: u64,
) -> Result<Analysis, String> {
    let has = |k: &str| swept_keys.iter().any(|s| s == k);
    if !has(FLUENCE_KEY) && !has(LENGTH_KEY) {
        return Err(format!(
            "fit needs a sweep over {FLUENCE_KEY} (ASE threshold) or {LENGTH_KEY} (net modal gain); {}",
            if swept_keys.is_empty() {
                "this file has no sweep".to_string()
            } else {
                format!("this file sweeps {}", swept_keys.join(", "))
            }
        ));
    }
    let others: Vec<&String> = swept_keys
        .iter()
        .filter(|k| ![FLUENCE_KEY, LENGTH_KEY, REPEAT_KEY].contains(&k.as_str()))
        .collect();
    if !others.is_empty() || (has(FLUENCE_KEY) && has(LENGTH_KEY)) {
        return Err(format!(
            "fit needs one measured axis ({FLUENCE_KEY} or {LENGTH_KEY}, optionally with {REPEAT_KEY} repeats); this file also sweeps {}",
            swept_keys
                .iter()
                .filter(|k| k.as_str() != REPEAT_KEY)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut analysis = Analysis::default();
    if has(FLUENCE_KEY) {
        analysis.threshold = Some(threshold(points, seed, &mut analysis.warnings)?);
    }
    if has(LENGTH_KEY) {
        analysis.gain = Some(gain(points, opts, &mut analysis.warnings)?);
    }
    Ok(analysis)
}

fn threshold(
    points: &[PointRecord],
    seed: u64,
    warnings: &mut Vec<String>,
) -> Result<Threshold, String> {
    let light = positive(
        curve(points, FLUENCE_KEY, "edge_photons"),
        "fluence",
        "µJ/cm²",
        warnings,
    );
    if light.len() < 4 {
        return Err(format!(
            "the threshold fit needs at least 4 fluences with edge output; the file has {}",
            light.len()
        ));
    }
    let x: Vec<f64> = light.iter().map(|p| p.0).collect();
    let y: Vec<f64> = light.iter().map(|p| p.1).collect();
    // With two independent runs or more (replicas or seeds) at every fluence, the
    // bootstrap resamples the runs.
    let runs: Vec<Vec<f64>> = repeats(points, FLUENCE_KEY, "edge_photons")
        .into_iter()
        .filter(|(f, _)| x.contains(f))
        .map(|(_, ys)| ys)
        .collect();
    let fewest = runs.iter().map(Vec::len).min().unwrap_or(0);
    let (fit, method) = if fewest >= 2 {
        (
            fit_knee_repeats(&x, &runs, BOOTSTRAP_RESAMPLES, seed),
            format!(
                "Student's t ({} degrees of freedom) times the standard deviation of {BOOTSTRAP_RESAMPLES} refits of a bootstrap over the independent runs at each fluence ({fewest} or more replicas or seeds each), each fluence weighted by its relative standard error",
                fewest - 1
            ),
        )
    } else {
        (
            fit_knee(&x, &y, BOOTSTRAP_RESAMPLES, seed),
            format!(
                "Student's t ({} degrees of freedom) times the standard deviation of {BOOTSTRAP_RESAMPLES} refits of a residual bootstrap",
                x.len().saturating_sub(4)
            ),
        )
    };
    let fit = fit.ok_or("the two-line fit of edge output vs fluence failed (degenerate data)")?;
    if fit.slope_above <= fit.slope_below {
        warnings.push(format!(
            "no knee: the edge output grows no faster above {:.4} µJ/cm² than below; the sweep may not reach threshold",
            fit.knee
        ));
    }
    let bracket = knee_bracket(&x, fit.knee);
    // 95 % of a knee anywhere in the gap lies within 0.475 of its width of the middle.
    let resolution = 0.475 * (bracket.1 - bracket.0);
    let uncertainty = fit.knee_uncertainty.hypot(resolution);
    if resolution > fit.knee_uncertainty {
        warnings.push(format!(
            "the knee lies between the sweep's fluences {:.4} and {:.4} µJ/cm², whose gap dominates the threshold's uncertainty; add fluences between them to pin it down",
            bracket.0, bracket.1
        ));
    }
    let n0 = curve(points, FLUENCE_KEY, "mean_excitons_initial");
    let mean_excitons = interpolate(
        &n0.iter().map(|p| p.0).collect::<Vec<_>>(),
        &n0.iter().map(|p| p.1).collect::<Vec<_>>(),
        fit.knee,
    );
    let fwhm = curve(points, FLUENCE_KEY, "edge_fwhm_nm");
    Ok(Threshold {
        mean_excitons,
        steepest: steepest_loglog(&x, &y),
        fwhm_collapse: fwhm_collapse(
            &fwhm.iter().map(|p| p.0).collect::<Vec<_>>(),
            &fwhm.iter().map(|p| p.1).collect::<Vec<_>>(),
        ),
        method: format!(
            "continuous two-line fit of the integrated edge output vs fluence (least squares on log residuals); uncertainty: {method}, in quadrature with 0.475 of the gap between the fluences either side of the knee (95 % of a knee anywhere in it)"
        ),
        fit,
        bracket,
        uncertainty,
        curve: light,
    })
}

/// The neighbouring fluences of `x` (ascending) around `knee`: the largest at or below
/// it and the smallest above it.
fn knee_bracket(x: &[f64], knee: f64) -> (f64, f64) {
    let above = x
        .iter()
        .position(|&f| f > knee)
        .unwrap_or(x.len() - 1)
        .max(1);
    (x[above - 1], x[above])
}

fn gain(
    points: &[PointRecord],
    opts: &FitOptions,
    warnings: &mut Vec<String>,
) -> Result<Gain, String> {
    let all = positive(
        curve(points, LENGTH_KEY, "edge_photons"),
        "stripe length",
        "µm",
        warnings,
    );
    let lo = opts.min_length_um.unwrap_or(f64::NEG_INFINITY);
    let hi = opts.max_length_um.unwrap_or(f64::INFINITY);
    let used: Vec<(f64, f64)> = all
        .iter()
        .copied()
        .filter(|p| p.0 >= lo && p.0 <= hi)
        .collect();
    if used.len() < 3 {
        return Err(format!(
            "the gain fit needs at least 3 stripe lengths in the range; {} of the file's {} lie in [{lo}, {hi}] µm",
            used.len(),
            all.len()
        ));
    }
    let l_cm: Vec<f64> = used.iter().map(|p| p.0 * 1e-4).collect();
    let y: Vec<f64> = used.iter().map(|p| p.1).collect();
    let runs: Vec<Vec<f64>> = repeats(points, LENGTH_KEY, "edge_photons")
        .into_iter()
        .filter(|(l, _)| used.iter().any(|p| p.0 == *l))
        .map(|(_, ys)| ys)
        .collect();
    let rel_err: Option<Vec<f64>> = (runs.len() == used.len() && runs.iter().all(|r| r.len() >= 2))
        .then(|| runs.iter().map(|r| relative_stderr(r)).collect());
    let fit = fit_vsl_weighted(&l_cm, &y, rel_err.as_deref())
        .ok_or("the VSL fit failed (degenerate data)")?;
    // Saturation: the longest stripes fall below the exponential.
    let tail: Vec<f64> = fit.residuals.iter().rev().take(2).copied().collect();
    let beyond: Vec<f64> = all
        .iter()
        .filter(|p| p.0 > hi)
        .map(|p| (p.1 - fit.predict(p.0 * 1e-4)) / fit.predict(p.0 * 1e-4))
        .collect();
    if tail.len() == 2 && tail.iter().all(|r| *r < -SATURATION_SHORTFALL)
        || beyond.iter().any(|r| *r < -SATURATION_SHORTFALL)
    {
        warnings.push(format!(
            "gain saturation: the longest stripes fall more than {:.0} % below the fitted exponential; fit a shorter range with --max-length-um",
            100.0 * SATURATION_SHORTFALL
        ));
    }
    Ok(Gain {
        fit,
        range_um: (used[0].0, used[used.len() - 1].0),
        curve: all,
    })
}

impl Analysis {
    /// The fitted quantities as JSON (keys of the interface contract; null where the
    /// file has no sweep for them).
    pub fn to_json(&self) -> Value {
        let t = self.threshold.as_ref();
        let g = self.gain.as_ref();
        json!({
            "threshold_uj_cm2": t.map(|t| t.fit.knee),
            "threshold_uncertainty_uj_cm2": t.map(|t| t.uncertainty),
            "threshold_bootstrap_uncertainty_uj_cm2": t.map(|t| t.fit.knee_uncertainty),
            "threshold_bracket_uj_cm2": t.map(|t| [t.bracket.0, t.bracket.1]),
            "mean_excitons_at_threshold": t.map(|t| t.mean_excitons),
            "threshold_method": t.map(|t| t.method.clone()),
            "slope_below_threshold": t.map(|t| t.fit.slope_below),
            "slope_above_threshold": t.map(|t| t.fit.slope_above),
            "threshold_steepest_loglog_uj_cm2": t.and_then(|t| t.steepest.map(|s| s.0)),
            "steepest_loglog_slope": t.and_then(|t| t.steepest.map(|s| s.1)),
            "threshold_fwhm_collapse_uj_cm2": t.and_then(|t| t.fwhm_collapse),
            "net_modal_gain_per_cm": g.map(|g| g.fit.gain),
            "net_modal_gain_uncertainty_per_cm": g.map(|g| g.fit.gain_uncertainty),
            "gain_fit_range_um": g.map(|g| [g.range_um.0, g.range_um.1]),
            "warnings": self.warnings,
        })
    }

    /// The fitted quantities as text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.threshold {
            out += &format!(
                "ASE threshold: {:.4} ± {:.4} µJ/cm² (⟨N⟩ = {:.3} at threshold)\n  method: {}\n  slopes: {:.4e} below, {:.4e} above (edge photons per µJ/cm²)\n",
                t.fit.knee,
                t.uncertainty,
                t.mean_excitons,
                t.method,
                t.fit.slope_below,
                t.fit.slope_above
            );
            if let Some((at, s)) = t.steepest {
                out += &format!("  steepest log–log rise: slope {s:.2} at {at:.4} µJ/cm²\n");
            }
            match t.fwhm_collapse {
                Some(f) => out += &format!("  edge FWHM falls below half at {f:.4} µJ/cm²\n"),
                None => out += "  edge FWHM does not fall below half its low-fluence value\n",
            }
        }
        if let Some(g) = &self.gain {
            out += &format!(
                "net modal gain: {:.3} ± {:.3} cm⁻¹ (VSL fit of I = A/g·(e^(gL) − 1) over {} … {} µm)\n",
                g.fit.gain, g.fit.gain_uncertainty, g.range_um.0, g.range_um.1
            );
        }
        for w in &self.warnings {
            out += &format!("warning: {w}\n");
        }
        out
    }
}
