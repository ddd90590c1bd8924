//! The ASE engine on the medium-crown-like film (a small piece of it): energy
//! conservation from below to far above threshold, the pump's initial excitation,
//! same-seed determinism and thread-count independence, and its output file.

mod common;
use asemc::ase::{self, AseOutput, AseSetup};
use asemc::config::Config;
use common::{mean_and_error, run_asemc, run_config, scratch, set_args, small_film, stripe_film};

/// The books' balance the f64 rounding leaves, relative to what flowed through them:
/// at most 3.0e-15 measured over these tests, so a tenfold regression fails.
const BALANCE_ROUNDING: f64 = 1e-14;

/// Threshold fluence of the seed paper's medium-crown sample, µJ/cm².
const THRESHOLD_UJ_CM2: f64 = 2.7;

/// The engine on `c` on `threads` threads, checking its invariants every step.
fn run(c: &Config, threads: usize) -> AseOutput {
    let mut setup = AseSetup::from_config(c).unwrap();
    setup.check_invariants = true;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| ase::run(&setup, 0, &|_| {}))
}

#[test]
fn energy_is_conserved_from_a_tenth_to_a_hundred_times_threshold() {
    for factor in [0.1, 1.0, 10.0, 100.0] {
        let fluence = factor * THRESHOLD_UJ_CM2;
        let c = small_film(&[&format!("pump.fluence_uj_cm2={fluence}")]);
        let out = run(&c, 2);
        let l = &out.ledger;
        let error = l.balance_error();
        println!(
            "{factor}× threshold: energy balance error {error:.2e}, {} packets, {} steps, stimulated {:.3e} photons for {:.3e} pump excitons",
            out.packets, out.steps, l.stimulated, l.pump_excitons
        );
        // The books are exact in f64: only rounding is left (at most 3.0e-15 measured).
        assert!(
            error.abs() <= BALANCE_ROUNDING,
            "{factor}× threshold: energy balance error {error:.3e}"
        );
        // The books are not trivially balanced: excitons were lost and photons left
        // through the exits.
        assert!(l.pump_excitons > 0.0 && l.auger + l.nonradiative > 0.0);
        assert!(
            l.exits.iter().sum::<f64>() > 0.0,
            "{factor}×: no photon left"
        );
        if factor >= 1.0 {
            assert!(
                l.stimulated > 0.0 && l.absorbed > 0.0,
                "{factor}×: no exchange booked"
            );
            assert!(out.packets > 0);
        }
    }
}

#[test]
fn pump_excites_sigma_f_over_h_nu() {
    // ⟨N⟩ = σF/hν: 2.7e-13 cm² × 2.7 µJ/cm² / 3.0996 eV = 1.4679.
    let c = small_film(&["run.duration_ps=0.02", "tally.time_bins=1"]);
    let out = run(&c, 2);
    let expected: f64 = 2.7e-13 * 2.7e-6 / (1239.841984 / 400.0 * 1.602176634e-19);
    // 12 × 4 cells of 500 platelets; the stripe holds 100/120 × 20/40 of them. Their
    // mean count is Poisson: standard error √(⟨N⟩/n).
    let n: f64 = 12.0 * 4.0 * 500.0 * (100.0 / 120.0) * (20.0 / 40.0);
    let sigma = (expected / n).sqrt();
    assert!(
        (out.mean_excitons_initial - expected).abs() <= 3.0 * sigma,
        "⟨N⟩ = {} vs {expected} (σ {sigma})",
        out.mean_excitons_initial
    );
    // With surface reflection and depth attenuation the mean over the film's depth
    // falls by (1 − R)·(1 − e^{−αd})/(αd), α = ρσ_pump.
    let c = small_film(&[
        "run.duration_ps=0.02",
        "tally.time_bins=1",
        "pump.surface_reflection=true",
        "pump.depth_attenuation=true",
    ]);
    let out = run(&c, 2);
    let r = ((1.75f64 - 1.0) / 2.75).powi(2);
    let rho: f64 = 0.25 / (729.0 * 1e-21);
    let ad: f64 = rho * 2.7e-13 * 150e-7;
    let top = expected * (1.0 - r);
    let reduced = top * (1.0 - (-ad).exp()) / ad;
    // A count's variance: its Poisson mean plus the spread of the means over the
    // depth, the platelets sitting uniformly in it: E[m²] − E[m]² of m = top·e^{−αz}.
    let spread = top * top * (1.0 - (-2.0 * ad).exp()) / (2.0 * ad) - reduced * reduced;
    let sigma = ((reduced + spread) / n).sqrt();
    assert!(
        (out.mean_excitons_initial - reduced).abs() <= 3.0 * sigma,
        "⟨N⟩ = {} vs {reduced} (σ {sigma})",
        out.mean_excitons_initial
    );
}

/// Three cells in depth (`grid.cells_z = 3`) with the pump attenuated through the film
/// (`pump.depth_attenuation`): the stripe's platelets in depth layer k hold on average
/// ⟨N⟩·(e^{−αz_k} − e^{−αz_{k+1}})/(αΔz), α = ρσ_pump, within 3σ (σ from the Poisson
/// counts and the spread of the means over the layer); and the run keeps its books.
#[test]
fn three_cells_in_depth_follow_the_pumps_attenuation() {
    let c = small_film(&[
        "run.duration_ps=0.2",
        "tally.time_bins=2",
        "grid.cells_z=3",
        "platelets.samples_per_cell=300",
        "pump.depth_attenuation=true",
    ]);
    let setup = AseSetup::from_config(&c).unwrap();
    let film = asemc::ase::platelets::Film::sample(&setup, 0);
    let peak: f64 = 2.7e-13 * 2.7e-6 / (1239.841984 / 400.0 * 1.602176634e-19);
    let rho: f64 = 0.25 / (729.0 * 1e-21);
    let alpha = rho * 2.7e-13;
    let dz = 150e-7 / 3.0;
    for k in 0..3 {
        let counts: Vec<f64> = film
            .platelets
            .iter()
            .filter(|p| setup.pump.contains(p.pos) && setup.grid.coords(p.pos)[2] == k)
            .map(|p| f64::from(p.n))
            .collect();
        let (z0, z1) = (k as f64 * dz, (k + 1) as f64 * dz);
        let mean_at = |z: f64| peak * (-alpha * z).exp();
        let expected = ((-alpha * z0).exp() - (-alpha * z1).exp()) / (alpha * dz) * peak;
        // The spread of the means over the layer, bounded by that of a uniform
        // spread between its ends.
        let spread = (mean_at(z0) - mean_at(z1)).powi(2) / 12.0;
        let n = counts.len() as f64;
        let mean = counts.iter().sum::<f64>() / n;
        let sigma = ((expected + spread) / n).sqrt();
        println!("layer {k}: ⟨N⟩ {mean:.4} against {expected:.4} (σ {sigma:.4}, {n} platelets)");
        assert!(
            (mean - expected).abs() <= 3.0 * sigma,
            "layer {k}: {mean} vs {expected} (σ {sigma})"
        );
    }
    let mut checked = setup.clone();
    checked.check_invariants = true;
    let out = ase::run(&checked, 0, &|_| {});
    assert!(
        out.ledger.balance_error().abs() <= BALANCE_ROUNDING,
        "{}",
        out.ledger.balance_error()
    );
}

/// A Gaussian stripe (`pump.profile = "gaussian"`, HWHM 10 µm): the platelets within
/// the half-maximum (the stripe's) hold on average ⟨N⟩·∫₀¹ e^{−ln2·t²} dt, the
/// integral by Simpson's rule here.
#[test]
fn a_gaussian_stripe_excites_its_profile() {
    let c = small_film(&[
        "run.duration_ps=0.02",
        "tally.time_bins=1",
        "pump.profile=\"gaussian\"",
    ]);
    let out = run(&c, 2);
    let peak: f64 = 2.7e-13 * 2.7e-6 / (1239.841984 / 400.0 * 1.602176634e-19);
    let profile = |t: f64| (-std::f64::consts::LN_2 * t * t).exp();
    let mean = peak * common::simpson(profile, 0.0, 1.0, 1000);
    // The platelets sit uniformly across the stripe: a count's variance is its Poisson
    // mean plus the spread of the means over the positions.
    let spread =
        peak * peak * common::simpson(|t| profile(t).powi(2), 0.0, 1.0, 1000) - mean * mean;
    let n: f64 = 12.0 * 4.0 * 500.0 * (100.0 / 120.0) * (20.0 / 40.0);
    let sigma = ((mean + spread) / n).sqrt();
    assert!(
        (out.mean_excitons_initial - mean).abs() <= 3.0 * sigma,
        "⟨N⟩ = {} vs {mean} (σ {sigma})",
        out.mean_excitons_initial
    );
    // Not the top-hat's.
    assert!((out.mean_excitons_initial - peak).abs() > 10.0 * sigma);
}

#[test]
fn same_seed_same_result_on_any_thread_count() {
    let c = small_film(&["pump.fluence_uj_cm2=5.4"]);
    let a = run(&c, 1);
    let b = run(&c, 2);
    assert_eq!(a.ledger, b.ledger);
    assert_eq!(a.tally, b.tally);
    assert_eq!(a.populations, b.populations);
    assert_eq!(a.gain, b.gain);
    assert!(a.packets > 0 && a.ledger.stimulated > 0.0);
    let mut c2 = c.clone();
    c2.run.seed += 1;
    assert_ne!(run(&c2, 2).ledger, a.ledger);
}

#[test]
fn output_file_has_the_ase_datasets_and_summary_keys() {
    let dir = scratch("ase-output");
    let sets = set_args([
        "film.length_um=60",
        "film.width_um=20",
        "pump.stripe_length_um=50",
        "pump.stripe_width_um=10",
        "grid.cells_x=6",
        "grid.cells_y=2",
        "run.duration_ps=2",
        "tally.time_bins=10",
    ]);
    let mut args = vec!["-o", "mc.h5"];
    args.extend(sets.iter().map(String::as_str));
    let out = run_config("run", "examples/medium_crown.toml", &args, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = asemc::output::h5file::open(&dir.join("mc.h5")).unwrap();
    let p = file.group("points/0000").unwrap();
    let shape = |name: &str| p.dataset(name).unwrap().shape();
    assert_eq!(shape("wavelength_nm"), [80]);
    assert_eq!(shape("edge_spectrum"), [80]);
    assert_eq!(shape("surface_spectrum"), [80]);
    assert_eq!(shape("time_ps"), [10]);
    assert_eq!(shape("edge_time_trace"), [10]);
    let pops = shape("populations");
    assert_eq!(pops[0], shape("snapshot_time_ps")[0]);
    assert!(pops[1] >= 3);
    assert_eq!(shape("gain_spectrum"), [pops[0], 80]);
    for ds in p.datasets().unwrap() {
        assert!(ds.attr("units").is_ok(), "{} has no units", ds.name());
    }
    let json = run_asemc(&["summary", "mc.h5", "--json"], &dir);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let point = &v["points"][0];
    for key in [
        "edge_photons",
        "edge_peak_nm",
        "edge_fwhm_nm",
        "surface_peak_nm",
        "surface_fwhm_nm",
        "mean_excitons_initial",
        "energy_balance_error",
    ] {
        assert!(point.get(key).is_some(), "summary lacks {key}");
    }
    let balance = point["energy_balance_error"].as_f64().unwrap();
    assert!(balance.abs() <= BALANCE_ROUNDING, "{balance:e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ase_appears_above_threshold_and_not_below() {
    use asemc::ase::tally::Exit;
    use asemc::spectral::{half_maximum_centre, peak_and_fwhm};
    struct Seen {
        photons: f64,
        edge: (f64, f64),
        surface: (f64, f64),
        /// Centre of the spontaneous line (midpoint of its half-maximum crossings).
        surface_centre: f64,
    }
    let look = |factor: f64| {
        let c = stripe_film(factor * THRESHOLD_UJ_CM2, &[]);
        let setup = AseSetup::from_config(&c).unwrap();
        let out = run(&c, 2);
        let nm = setup.spectrum.centres_nm();
        let edge = out.tally.spectrum_of(Exit::Detector);
        let seen = Seen {
            photons: edge.iter().sum(),
            edge: peak_and_fwhm(&nm, edge).unwrap(),
            surface: peak_and_fwhm(&nm, out.tally.spectrum_of(Exit::Surface)).unwrap(),
            surface_centre: half_maximum_centre(&nm, out.tally.spectrum_of(Exit::Surface)).unwrap(),
        };
        println!(
            "{factor}× threshold: edge {:.3e} photons, peak {:.1} nm, FWHM {:.1} nm; spontaneous (surface) peak {:.1} nm, centre {:.1} nm, FWHM {:.1} nm",
            seen.photons,
            seen.edge.0,
            seen.edge.1,
            seen.surface.0,
            seen.surface_centre,
            seen.surface.1
        );
        seen
    };
    let quarter = look(0.25);
    let half = look(0.5);
    let double = look(2.0);
    let slope = |a: &Seen, b: &Seen, ratio: f64| (b.photons / a.photons).ln() / ratio.ln();
    // Lines of the configured film: single exciton at 480 nm, biexciton Δ = 27 meV lower.
    let e0 = asemc::units::HC_EV_NM / 480.0;
    let biexciton_nm = asemc::units::HC_EV_NM / (e0 - 0.027);

    // Below threshold: the edge spectrum is as broad as spontaneous emission or broader
    // (reabsorption flattens it), the emission peaks on the single-exciton line, and the
    // output grows no faster than the bleaching of reabsorption allows.
    for below in [&quarter, &half] {
        assert!(
            below.edge.1 >= 0.5 * below.surface.1,
            "edge FWHM {:.1} nm below threshold vs spontaneous {:.1} nm",
            below.edge.1,
            below.surface.1
        );
        assert!(
            (below.surface_centre - 480.0).abs() <= 3.0,
            "spontaneous line centred at {:.1} nm",
            below.surface_centre
        );
    }
    let below_slope = slope(&quarter, &half, 2.0);
    assert!(
        below_slope < 2.0,
        "log-log slope {below_slope:.2} below threshold"
    );

    // Above threshold: the edge output jumps, its spectrum collapses to a line at least
    // twice narrower, red-shifted onto the biexciton line.
    let across = slope(&half, &double, 4.0);
    assert!(across > 5.0, "log-log slope {across:.2} across threshold");
    assert!(
        double.edge.1 <= 0.5 * half.edge.1.min(double.surface.1),
        "edge FWHM {:.1} nm above threshold vs {:.1} nm below",
        double.edge.1,
        half.edge.1
    );
    assert!(
        double.edge.0 >= 480.0 + 2.5 && (double.edge.0 - biexciton_nm).abs() <= 3.5,
        "edge peak {:.1} nm above threshold (biexciton line {biexciton_nm:.1} nm)",
        double.edge.0
    );
}

#[test]
fn halving_the_time_step_changes_nothing_beyond_noise() {
    use asemc::ase::tally::Exit;
    use asemc::spectral::peak_and_fwhm;
    const SEEDS: u64 = 6;
    // Integrated edge output and edge FWHM of one run (all of the edge output leaves
    // within the first picosecond at these fluences).
    // Halving the step: the configured (longest) step and the share of a cell's
    // excitons a step may exchange before it is shortened.
    let edge = |fluence: f64, dt_fs: f64, packets: u32, seed: u64| {
        let c = small_film(&[
            &format!("pump.fluence_uj_cm2={fluence}"),
            &format!("run.time_step_fs={dt_fs}"),
            &format!("run.max_exchange_fraction={}", dt_fs / 20.0),
            &format!("run.packets_per_step={packets}"),
            &format!("run.seed={seed}"),
            "run.duration_ps=2",
            "tally.time_bins=4",
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let out = run(&c, 2);
        let spectrum = out.tally.spectrum_of(Exit::Detector);
        let (_, fwhm) = peak_and_fwhm(&setup.spectrum.centres_nm(), spectrum).unwrap();
        (spectrum.iter().sum::<f64>(), fwhm, out.steps)
    };
    for factor in [1.0, 30.0] {
        let fluence = factor * THRESHOLD_UJ_CM2;
        // The same packets per picosecond in both arms, independent seeds.
        let arm = |dt_fs: f64, packets: u32, first_seed: u64| {
            let runs: Vec<_> = (first_seed..first_seed + SEEDS)
                .map(|seed| edge(fluence, dt_fs, packets, seed))
                .collect();
            let photons: Vec<f64> = runs.iter().map(|r| r.0).collect();
            let fwhm: Vec<f64> = runs.iter().map(|r| r.1).collect();
            let steps = runs.iter().map(|r| r.2).sum::<u64>() as f64 / SEEDS as f64;
            (mean_and_error(&photons), mean_and_error(&fwhm), steps)
        };
        let (photons, fwhm, steps) = arm(20.0, 128, 1);
        let (photons2, fwhm2, steps2) = arm(10.0, 64, 101);
        println!(
            "{factor}× threshold: edge {:.3e} ± {:.2e} (dt 20 fs, {steps:.0} steps) vs {:.3e} ± {:.2e} (dt 10 fs, {steps2:.0} steps); FWHM {:.2} ± {:.2} vs {:.2} ± {:.2} nm",
            photons.0, photons.1, photons2.0, photons2.1, fwhm.0, fwhm.1, fwhm2.0, fwhm2.1
        );
        // The steps adapt within a factor-4 band of the exchange limit, so the finer arm
        // takes more steps, though not always twice as many.
        assert!(steps2 > 1.2 * steps, "dt/2 took {steps2} steps vs {steps}");
        for (what, a, b) in [
            ("edge output", photons, photons2),
            ("edge FWHM", fwhm, fwhm2),
        ] {
            let sigma = a.1.hypot(b.1);
            assert!(
                (a.0 - b.0).abs() <= 3.0 * sigma,
                "{factor}× threshold: {what} {:.4e} at dt vs {:.4e} at dt/2 (σ {sigma:.2e})",
                a.0,
                b.0
            );
        }
    }
}
