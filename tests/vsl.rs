//! Small-signal variable stripe length: with frozen populations in a thick film, the
//! detector's output follows I(L) = A/g (e^{gL} − 1) and a fit returns the configured
//! net gain g = ρσ₀(1 − 2P₀ − P₁) − α within 3σ of the fit's own error, plus the
//! detector cone's bound on the paths' excess length.

mod common;
use asemc::analysis::fit::fit_vsl;
use asemc::ase::tally::Exit;
use asemc::ase::{self, AseSetup};
use asemc::config::load;
use common::{STEADY_FROM_PS, configs_dir, configured_gain};

#[test]
fn small_signal_vsl_returns_the_configured_gain() {
    let resolved = load(&configs_dir().join("validation/vsl_small_signal.toml"), &[]).unwrap();
    let mut lengths = Vec::new();
    let mut output = Vec::new();
    for (i, c) in resolved.points.iter().enumerate() {
        let setup = AseSetup::from_config(c).unwrap();
        let out = ase::run(&setup, i as u32, &|_| {});
        let trace = out.tally.trace_of(Exit::Detector);
        let bin_ps = setup.duration_ps / trace.len() as f64;
        let steady: f64 = trace
            .iter()
            .enumerate()
            .filter(|(k, _)| *k as f64 * bin_ps >= STEADY_FROM_PS)
            .map(|(_, v)| v)
            .sum();
        assert!(steady > 0.0);
        lengths.push(c.pump.as_ref().unwrap().stripe_length_um * 1e-4);
        output.push(steady);
    }
    // The configured net gain at the line centre, from the closed form.
    let g_configured = configured_gain(&resolved.points[0]);
    let fit = fit_vsl(&lengths, &output).unwrap();
    common::assert_vsl_gain("CPU", &fit, g_configured, &resolved.points[0]);
    let rms =
        (fit.residuals.iter().map(|r| r * r).sum::<f64>() / fit.residuals.len() as f64).sqrt();
    println!("rms of I about the fit {rms:.4}");
    // The curve itself follows the law: small scatter about the fit, and clearly
    // super-linear (gL reaches about 3).
    assert!(rms < 0.05, "rms deviation of I from the fit: {rms}");
    assert!(g_configured * lengths.last().unwrap() > 3.0);
}
