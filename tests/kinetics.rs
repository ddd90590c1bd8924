//! Exciton kinetics against the master equation: for Poisson initial ⟨N⟩ = 0.5, 2 and
//! 8 and both Auger laws, the occupation fractions and the mean exciton number of the
//! sampled platelets match the master equation integrated here by RK4, within 3σ at
//! every sampled time; and the same with the platelets' loss events and radiative
//! bookings on the GPU (lavapipe in CI; skipped without an adapter unless
//! `ASEMC_REQUIRE_GPU` is set).

mod common;
use asemc::ase::{self, AseOutput, AseSetup};
use asemc::config::{AugerScaling, Config, load};
use asemc::gpu::stages;
use common::configs_dir;

fn kinetics_config(mean: f64, auger: &str) -> Config {
    let path = configs_dir().join("validation/kinetics.toml");
    let r = load(
        &path,
        &[
            format!("pump.mean_excitons={mean}"),
            format!("platelets.auger_scaling={auger}"),
        ],
    )
    .unwrap();
    r.points.into_iter().next().unwrap()
}

/// Decay rate γ_n of a platelet holding n excitons, ps⁻¹.
fn gamma(c: &Config, n: usize) -> f64 {
    let p = &c.platelets;
    let nf = n as f64;
    let k_xx = 1.0 / p.biexciton_lifetime_ps;
    let auger = match p.auger_scaling {
        AugerScaling::Bimolecular => k_xx * nf * (nf - 1.0) / 2.0,
        AugerScaling::Cubic => k_xx * nf * nf * (nf - 1.0) / 4.0,
    };
    nf / p.radiative_lifetime_ps + nf / p.nonradiative_lifetime_ps.unwrap() + auger
}

/// The master equation from a Poisson start, by RK4; P_n at each requested time.
fn master_equation(c: &Config, mean: f64, times: &[f64]) -> Vec<Vec<f64>> {
    let n_max = 80;
    let rates: Vec<f64> = (0..=n_max).map(|n| gamma(c, n)).collect();
    let mut p: Vec<f64> = (0..=n_max)
        .map(|n| {
            let ln = n as f64 * mean.ln() - mean - (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
            ln.exp()
        })
        .collect();
    let deriv = |p: &[f64]| -> Vec<f64> {
        (0..=n_max)
            .map(|n| {
                -rates[n] * p[n]
                    + if n < n_max {
                        rates[n + 1] * p[n + 1]
                    } else {
                        0.0
                    }
            })
            .collect()
    };
    let h: f64 = 1e-3; // ps; the fastest rate (n = 40, bimolecular) is ~16 ps⁻¹
    let mut t = 0.0;
    let mut out = Vec::new();
    for &target in times {
        while t < target - 1e-12 {
            let dt = h.min(target - t);
            let k1 = deriv(&p);
            let p2: Vec<f64> = p.iter().zip(&k1).map(|(a, k)| a + 0.5 * dt * k).collect();
            let k2 = deriv(&p2);
            let p3: Vec<f64> = p.iter().zip(&k2).map(|(a, k)| a + 0.5 * dt * k).collect();
            let k3 = deriv(&p3);
            let p4: Vec<f64> = p.iter().zip(&k3).map(|(a, k)| a + dt * k).collect();
            let k4 = deriv(&p4);
            for n in 0..=n_max {
                p[n] += dt / 6.0 * (k1[n] + 2.0 * k2[n] + 2.0 * k3[n] + k4[n]);
            }
            t += dt;
        }
        out.push(p.clone());
    }
    out
}

/// One-sided probability beyond 3σ of a normal distribution.
const THREE_SIGMA_TAIL: f64 = 0.00135;

/// P(X ≤ k) and P(X ≥ k) for X ~ Poisson(mean).
fn poisson_tails(mean: f64, k: u64) -> (f64, f64) {
    let mut term = (-mean).exp();
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= mean / (i + 1) as f64;
    }
    // below = P(X < k); term = P(X = k).
    (below + term, 1.0 - below)
}

fn check(mean: f64, auger: &str) {
    check_run(mean, auger, |setup| ase::run(setup, 0, &|_| {}));
}

/// The check of a run by `run`.
fn check_run(mean: f64, auger: &str, run: impl Fn(&AseSetup) -> AseOutput) {
    let c = kinetics_config(mean, auger);
    let setup = AseSetup::from_config(&c).unwrap();
    let out = run(&setup);
    let samples = out.platelets as f64;
    let expected = master_equation(&c, mean, &out.snapshot_ps);
    for (k, (mc, me)) in out.populations.iter().zip(&expected).enumerate() {
        let t = out.snapshot_ps[k];
        // Occupation fractions: each n with an expected count of at least 5, and the
        // rest lumped together, within 3 binomial standard errors.
        let mut tail_mc = 0.0;
        let mut tail_me = 0.0;
        for (n, &p_me) in me.iter().enumerate() {
            let p_mc = mc.get(n).copied().unwrap_or(0.0);
            if p_me * samples >= 5.0 {
                let sigma = (p_me * (1.0 - p_me) / samples).sqrt();
                assert!(
                    (p_mc - p_me).abs() <= 3.0 * sigma,
                    "⟨N⟩0 = {mean}, {auger}, t = {t} ps: P_{n} = {p_mc:.5} vs {:.5} ({:.2}σ)",
                    p_me,
                    (p_mc - p_me).abs() / sigma
                );
            } else {
                tail_mc += p_mc;
                tail_me += p_me;
            }
        }
        // The lumped rare states hold a few platelets: their count is Poisson, and the
        // 3σ criterion is its two-sided probability, 0.27 %.
        let (count, expected_count) = ((tail_mc * samples).round() as u64, tail_me * samples);
        let (below, above) = poisson_tails(expected_count, count);
        assert!(
            below > THREE_SIGMA_TAIL && above > THREE_SIGMA_TAIL,
            "⟨N⟩0 = {mean}, {auger}, t = {t} ps: {count} platelets in rare states, {expected_count:.2} expected"
        );
        // Mean exciton number within 3 standard errors.
        let mean_me: f64 = me.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let var_me: f64 = me
            .iter()
            .enumerate()
            .map(|(n, p)| (n as f64 - mean_me).powi(2) * p)
            .sum();
        let mean_mc: f64 = mc.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let sigma = (var_me / samples).sqrt();
        assert!(
            (mean_mc - mean_me).abs() <= 3.0 * sigma,
            "⟨N⟩0 = {mean}, {auger}, t = {t} ps: ⟨n⟩ = {mean_mc:.5} vs {mean_me:.5} ({:.2}σ)",
            (mean_mc - mean_me).abs() / sigma
        );
    }
    // The comparison covers the decay: the last snapshot is near the end of the run.
    assert!(*out.snapshot_ps.last().unwrap() > 0.9 * c.run.duration_ps);
}

#[test]
fn bimolecular_auger_at_mean_half() {
    check(0.5, "bimolecular");
}

#[test]
fn bimolecular_auger_at_mean_two() {
    check(2.0, "bimolecular");
}

#[test]
fn bimolecular_auger_at_mean_eight() {
    check(8.0, "bimolecular");
}

#[test]
fn cubic_auger_at_mean_half() {
    check(0.5, "cubic");
}

#[test]
fn cubic_auger_at_mean_two() {
    check(2.0, "cubic");
}

#[test]
fn cubic_auger_at_mean_eight() {
    check(8.0, "cubic");
}

#[test]
fn on_the_gpu_backend() {
    let Some(gpu) = common::gpu() else { return };
    for (mean, auger) in [(2.0, "bimolecular"), (8.0, "cubic")] {
        check_run(mean, auger, |setup| {
            stages::run(&gpu, setup, 0, &|_| {}).unwrap()
        });
    }
}
