//! The gain of the sampled platelets: the Poisson transparency point of the multiexciton
//! gain picture, and the gain spectrum against the closed form of PHYSICS.md (formula 2).

mod common;
use asemc::ase::{self, AseSetup};
use asemc::config::Config;
use common::config;

/// One cell of 200 000 platelets, g_d = 2, Δ_XX = 0, no inhomogeneous broadening, no
/// background loss; a window of one bin centred on the line.
fn transparency_film(mean: f64) -> Config {
    config(&format!(
        r#"
[film]
thickness_nm = 1000.0
refractive_index = 1.75
length_um = 10.0
width_um = 10.0
[source]
kind = "pump"
[platelets]
density_per_cm3 = 1.0e17
samples_per_cell = 200_000
degeneracy = 2
biexciton_shift_mev = 0.0
inhomogeneous_fwhm_mev = 0.0
emission_peak_nm = 480.0
[pump]
mean_excitons = {mean}
stripe_length_um = 10.0
stripe_width_um = 10.0
[spectrum]
min_nm = 479.5
max_nm = 480.5
bins = 1
[grid]
cells_x = 1
[run]
seed = 77
time_step_fs = 10.0
duration_ps = 0.01
[tally]
time_bins = 1
"#
    ))
}

/// Net material gain at the line centre right after the pump, cm⁻¹.
fn centre_gain(mean: f64) -> f64 {
    let setup = AseSetup::from_config(&transparency_film(mean)).unwrap();
    let out = ase::run(&setup, 0, &|_| {});
    out.gain[0][0]
}

#[test]
fn lossless_poisson_ensemble_is_transparent_at_mean_1_146() {
    // g ∝ 1 − 2P₀ − P₁ = 1 − (2 + ⟨N⟩)e^{−⟨N⟩} vanishes at ⟨N⟩ = 1.1462 (PHYSICS.md).
    let (lo, hi) = (0.9, 1.4);
    assert!(centre_gain(lo) < 0.0 && centre_gain(hi) > 0.0);
    // The gain rises through zero: below the onset it is not positive.
    let below = |m: f64| if centre_gain(m) > 0.0 { -1.0 } else { 1.0 };
    let onset = common::bisect(below, lo, hi, 14);
    // The root of 1 − (2 + m)e^{−m}, by Newton's method; its derivative is (1 + m)e^{−m}.
    let mut root = 1.1;
    for _ in 0..50 {
        root -= (1.0 - (2.0 + root) * f64::exp(-root)) / ((1.0 + root) * f64::exp(-root));
    }
    // Each platelet adds min(N, 2) − 1 ∈ {−1, 0, 1} to the centre gain: the mean of n
    // of them has the standard error √((P₀ + P_{≥2} − g²)/n), and the crossing that
    // over the slope (1 + m)e^{−m}; the bisection's own step (3e-5) is far below it.
    let (p0, p1) = (f64::exp(-root), root * f64::exp(-root));
    let variance = p0 + (1.0 - p0 - p1);
    let sigma = (variance / 200_000.0).sqrt() / ((1.0 + root) * f64::exp(-root));
    println!(
        "net gain at the line centre changes sign at ⟨N⟩ = {onset:.4} (closed form {root:.5}, σ {sigma:.1e})"
    );
    assert!((root - 1.14619).abs() < 1e-5, "{root}");
    assert!(
        (onset - root).abs() <= 3.0 * sigma,
        "gain changes sign at ⟨N⟩ = {onset:.4}, not {root:.4} (σ {sigma:.1e})"
    );
}

#[test]
fn gain_spectrum_matches_the_poisson_closed_form() {
    // g(λ) = ρσ₀ Σ_N P_N [φ_e min(N, g_d)/g_d − φ_a (1 − min(N, g_d)/g_d)] with the
    // biexciton shift: N = 1 emits at E₀ and absorbs at E₀ − Δ, N ≥ 2 emits at E₀ − Δ,
    // N = 0 absorbs at E₀ (Lorentzian φ, HWHM 20 meV).
    let mut c = transparency_film(2.0);
    c.platelets.biexciton_shift_mev = 27.0;
    c.spectrum.min_nm = 460.0;
    c.spectrum.max_nm = 500.0;
    c.spectrum.bins = 8;
    let setup = AseSetup::from_config(&c).unwrap();
    let out = ase::run(&setup, 0, &|_| {});
    let mean: f64 = 2.0;
    let p0 = (-mean).exp();
    let p1 = mean * p0;
    let rest = 1.0 - p0 - p1;
    let rho_sigma = 1.0e17 * 7e-14;
    let e0 = 1239.841984 / 480.0;
    let phi = |d: f64| 1.0 / (1.0 + (d / 0.020).powi(2));
    for (b, &e) in setup.spectrum.energy_ev.iter().enumerate() {
        // Each platelet's contribution by its exciton number, and their Poisson weights.
        let terms = [
            (p0, -phi(e - e0)),
            (p1, 0.5 * phi(e - e0) - 0.5 * phi(e - e0 + 0.027)),
            (rest, phi(e - e0 + 0.027)),
        ];
        let m: f64 = terms.iter().map(|(p, x)| p * x).sum();
        let var: f64 = terms.iter().map(|(p, x)| p * (x - m).powi(2)).sum();
        let g = rho_sigma * m;
        // Standard error from sampling 200 000 platelets' occupation numbers.
        let sigma = rho_sigma * (var / 200_000.0).sqrt();
        assert!(
            (out.gain[0][b] - g).abs() <= 3.0 * sigma,
            "bin {b}: {:.2} vs {g:.2} cm⁻¹ (σ {sigma:.2})",
            out.gain[0][b]
        );
    }
}
