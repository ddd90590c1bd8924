//! The fits of `asemc fit` on synthetic data with known answers.

use asemc::analysis::fit::{fit_knee, fit_knee_repeats, fit_vsl, fwhm_collapse, steepest_loglog};
use asemc::ase::lineshape::standard_normal;
use asemc::rng::{Purpose, Stream};

/// Stripe lengths 100 … 1000 µm in cm.
fn lengths() -> Vec<f64> {
    (1..=12).map(|i| 0.0075 * i as f64 + 0.0025).collect()
}

fn vsl(a: f64, g: f64, l: f64) -> f64 {
    a / g * (g * l).exp_m1()
}

/// Noise-free curves: the fit's gain and amplitude to 1e-9 of themselves (measured
/// 1e-12; the golden section's search on a least-squares cost, in double precision).
#[test]
fn noise_free_vsl_curves_return_their_gain_to_1e_9() {
    for g in [-20.0, 5.0, 50.0, 150.0, 360.0] {
        let l = lengths();
        let y: Vec<f64> = l.iter().map(|&l| vsl(3.7e4, g, l)).collect();
        let fit = fit_vsl(&l, &y).unwrap();
        println!(
            "g = {g}: fit {:.10} ± {:.2e}, amplitude {:.10e}",
            fit.gain, fit.gain_uncertainty, fit.amplitude
        );
        assert!(
            (fit.gain - g).abs() <= 1e-9 * g.abs(),
            "g = {g}: fit {}",
            fit.gain
        );
        assert!(
            (fit.amplitude / 3.7e4 - 1.0).abs() < 1e-9,
            "{}",
            fit.amplitude
        );
    }
}

#[test]
fn noisy_vsl_fits_hold_the_true_gain_within_their_uncertainty() {
    let g = 100.0;
    let l = lengths();
    let mut inside = 0;
    let mut widths = Vec::new();
    for trial in 0..100u32 {
        let mut rng = Stream::new(7, Purpose::Analysis, trial, 0, 0);
        let y: Vec<f64> = l
            .iter()
            .map(|&l| vsl(1e5, g, l) * (1.0 + 0.1 * standard_normal(&mut rng)))
            .collect();
        let fit = fit_vsl(&l, &y).unwrap();
        widths.push(fit.gain_uncertainty);
        if (fit.gain - g).abs() <= fit.gain_uncertainty {
            inside += 1;
        }
    }
    widths.sort_by(f64::total_cmp);
    println!(
        "{inside}/100 fits hold g = {g} within their 95 % half-width (median {:.2} cm⁻¹)",
        widths[50]
    );
    assert!(inside >= 90, "{inside}/100");
    // The uncertainty is informative, not huge.
    assert!(widths[50] < 0.2 * g);
}

/// Above threshold one run's edge output scatters by about a factor of two from point to
/// point (rare, strongly amplified paths). With log-normal scatter of that size the gain
/// and the knee stay unbiased: the mean of 100 fits lies within 3 standard errors of
/// the truth, and the 95 % intervals cover it in most trials.
#[test]
fn fits_stay_unbiased_under_factor_of_two_scatter() {
    let sigma = 2f64.ln();
    let g = 200.0;
    let l = lengths();
    let (mut gains, mut inside) = (Vec::new(), 0);
    for trial in 0..100u32 {
        let mut rng = Stream::new(13, Purpose::Analysis, trial, 0, 0);
        let y: Vec<f64> = l
            .iter()
            .map(|&l| vsl(1e5, g, l) * (sigma * standard_normal(&mut rng)).exp())
            .collect();
        let fit = fit_vsl(&l, &y).unwrap();
        inside += usize::from((fit.gain - g).abs() <= fit.gain_uncertainty);
        gains.push(fit.gain);
    }
    let (mean, se) = mean_and_standard_error(&gains);
    println!("gain: mean of fits {mean:.2} ± {se:.2} (true {g}); {inside}/100 intervals hold it");
    assert!((mean - g).abs() <= 3.0 * se, "{mean} ± {se}");
    assert!(inside >= 90, "{inside}/100");

    let knee = 2.7;
    let x: Vec<f64> = (0..16).map(|i| 0.5 * 1.25f64.powi(i)).collect();
    let mut knees = Vec::new();
    for trial in 0..100u32 {
        let mut rng = Stream::new(17, Purpose::Analysis, trial, 0, 0);
        let y: Vec<f64> = x
            .iter()
            .map(|&f| bilinear(knee, f) * (sigma * standard_normal(&mut rng)).exp())
            .collect();
        knees.push(fit_knee(&x, &y, 0, 0).unwrap().knee);
    }
    let (mean, se) = mean_and_standard_error(&knees);
    println!("knee: mean of fits {mean:.3} ± {se:.3} (true {knee})");
    assert!((mean - knee).abs() <= 3.0 * se, "{mean} ± {se}");
}

fn mean_and_standard_error(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// A bilinear light-in/light-out curve: slope 1 below the knee, 40 above.
fn bilinear(knee: f64, f: f64) -> f64 {
    if f < knee {
        f
    } else {
        knee + 40.0 * (f - knee)
    }
}

#[test]
fn a_bilinear_light_curve_returns_its_knee_within_two_percent() {
    let knee = 2.7;
    let x: Vec<f64> = (0..16).map(|i| 0.5 * 1.25f64.powi(i)).collect();
    let y: Vec<f64> = x.iter().map(|&f| bilinear(knee, f)).collect();
    let fit = fit_knee(&x, &y, 200, 1).unwrap();
    println!(
        "knee {:.4} ± {:.2e}, slopes {:.3} and {:.3}",
        fit.knee, fit.knee_uncertainty, fit.slope_below, fit.slope_above
    );
    assert!((fit.knee / knee - 1.0).abs() <= 0.02, "{}", fit.knee);
    assert!((fit.slope_above / 40.0 - 1.0).abs() <= 0.02);
    // With 5 % noise the knee stays within its bootstrap interval in most trials.
    let mut inside = 0;
    for trial in 0..40u32 {
        let mut rng = Stream::new(11, Purpose::Analysis, trial, 0, 0);
        let noisy: Vec<f64> = y
            .iter()
            .map(|v| v * (1.0 + 0.05 * standard_normal(&mut rng)))
            .collect();
        let fit = fit_knee(&x, &noisy, 200, u64::from(trial)).unwrap();
        if (fit.knee - knee).abs() <= fit.knee_uncertainty {
            inside += 1;
        }
    }
    println!("{inside}/40 noisy knees within their 95 % interval");
    assert!(inside >= 32, "{inside}/40");
}

/// Four runs per fluence, each scattering by a factor of two: the bootstrap over the runs
/// gives an interval that holds the true knee in most trials, and so does the residual
/// bootstrap of a fit to the runs' means alone.
#[test]
fn knee_intervals_cover_the_knee_under_heavy_scatter() {
    const REPS: usize = 4;
    let knee = 2.7;
    let sigma = 2f64.ln();
    let x: Vec<f64> = (0..12).map(|i| 0.5 * 1.3f64.powi(i)).collect();
    let (mut over_runs, mut over_residuals) = (0, 0);
    let mut widths = Vec::new();
    for trial in 0..40u32 {
        let mut rng = Stream::new(19, Purpose::Analysis, trial, 0, 0);
        let runs: Vec<Vec<f64>> = x
            .iter()
            .map(|&f| {
                (0..REPS)
                    .map(|_| bilinear(knee, f) * (sigma * standard_normal(&mut rng)).exp())
                    .collect()
            })
            .collect();
        let fit = fit_knee_repeats(&x, &runs, 200, u64::from(trial)).unwrap();
        over_runs += usize::from((fit.knee - knee).abs() <= fit.knee_uncertainty);
        widths.push(fit.knee_uncertainty);
        let means: Vec<f64> = runs
            .iter()
            .map(|r| r.iter().sum::<f64>() / REPS as f64)
            .collect();
        let fit = fit_knee(&x, &means, 200, u64::from(trial)).unwrap();
        over_residuals += usize::from((fit.knee - knee).abs() <= fit.knee_uncertainty);
    }
    widths.sort_by(f64::total_cmp);
    println!(
        "bootstrap over runs: {over_runs}/40 knees within their 95 % interval (median half-width {:.3}); residual bootstrap: {over_residuals}/40",
        widths[20]
    );
    assert!(over_runs >= 32, "{over_runs}/40");
    assert!(over_residuals >= 32, "{over_residuals}/40");
    assert!(widths[20] < 0.5 * knee);
}

#[test]
fn cross_checks_find_the_steep_rise_and_the_narrowing() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [1.0, 2.0, 60.0, 100.0, 140.0];
    let (at, slope) = steepest_loglog(&x, &y).unwrap();
    assert!((at - 6f64.sqrt()).abs() < 1e-12 && slope > 8.0);
    let fwhm = [20.0, 19.0, 8.0, 3.0, 2.0];
    // Half of 20 nm is crossed between 2 and 3, at 2 + 9/11.
    assert!((fwhm_collapse(&x, &fwhm).unwrap() - (2.0 + 9.0 / 11.0)).abs() < 1e-12);
    assert!(fwhm_collapse(&x, &[20.0, 19.0, 18.0, 17.0, 16.0]).is_none());
}
