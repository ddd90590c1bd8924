//! `asemc fit` and `summary` on real sweeps, and its errors for files it cannot fit.

mod common;
use common::{configs_dir, run_asemc, scratch};

/// Run an example config made small and quick, into `out`.
fn run_small(dir: &std::path::Path, config: &str, out: &str, extra: &[&str]) {
    let cfg = configs_dir().join(config);
    let mut args: Vec<String> = vec![
        "run".into(),
        cfg.to_str().unwrap().into(),
        "-o".into(),
        out.into(),
        "-q".into(),
    ];
    for s in [
        "film.length_um=120",
        "film.width_um=40",
        "grid.cells_x=12",
        "grid.cells_y=2",
        "platelets.samples_per_cell=100",
        "run.duration_ps=1",
        "run.packets_per_step=64",
        "tally.time_bins=5",
    ]
    .iter()
    .chain(extra)
    {
        args.push("--set".into());
        args.push(s.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_asemc(&args, dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn json(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let o = run_asemc(args, dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn fit_returns_the_gain_of_a_stripe_length_sweep_and_the_threshold_of_a_fluence_sweep() {
    let dir = scratch("fit-sweeps");
    run_small(
        &dir,
        "examples/vsl.toml",
        "vsl.h5",
        &[
            "pump.stripe_length_um=100",
            "sweep.axes=[{key=\"pump.stripe_length_um\", linspace=[20, 100, 5]}]",
        ],
    );
    let v = json(&dir, &["fit", "vsl.h5", "--json"]);
    println!("{v}");
    assert!(v["net_modal_gain_per_cm"].as_f64().unwrap().is_finite());
    assert!(v["net_modal_gain_uncertainty_per_cm"].as_f64().unwrap() >= 0.0);
    assert!(v["threshold_uj_cm2"].is_null());
    assert_eq!(v["points"].as_array().unwrap().len(), 5);
    assert!(v["points"][0]["edge_fwhm_nm"].as_f64().is_some());
    // A restricted range uses fewer lengths.
    let v = json(&dir, &["fit", "vsl.h5", "--json", "--max-length-um", "80"]);
    assert_eq!(v["gain_fit_range_um"][1].as_f64(), Some(80.0));

    run_small(
        &dir,
        "examples/fluence_sweep.toml",
        "fl.h5",
        &[
            "pump.stripe_length_um=100",
            "sweep.axes=[{key=\"pump.fluence_uj_cm2\", logspace=[0.5, 20, 6]}]",
        ],
    );
    let v = json(&dir, &["fit", "fl.h5", "--json"]);
    println!("{v}");
    let t = v["threshold_uj_cm2"].as_f64().unwrap();
    assert!((0.5..=20.0).contains(&t), "{t}");
    assert!(v["mean_excitons_at_threshold"].as_f64().unwrap() > 0.0);
    assert!(v["threshold_uncertainty_uj_cm2"].as_f64().is_some());
    assert!(v["net_modal_gain_per_cm"].is_null());
    // summary carries the fit too.
    let s = json(&dir, &["summary", "fl.h5", "--json"]);
    assert_eq!(s["fit"]["threshold_uj_cm2"].as_f64(), Some(t));
    std::fs::remove_dir_all(&dir).ok();
}

fn rejected(dir: &std::path::Path, args: &[&str], expected: &[&str]) {
    let o = run_asemc(args, dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for e in expected {
        assert!(err.contains(e), "stderr lacks {e:?}: {err}");
    }
}

#[test]
fn fit_says_which_sweep_it_needs_and_rejects_files_it_cannot_read() {
    let dir = scratch("fit-errors");
    run_small(
        &dir,
        "examples/medium_crown.toml",
        "one.h5",
        &["pump.stripe_length_um=100", "pump.stripe_width_um=20"],
    );
    rejected(
        &dir,
        &["fit", "one.h5"],
        &[
            "one.h5",
            "fit needs a sweep over pump.fluence_uj_cm2 (ASE threshold) or pump.stripe_length_um (net modal gain)",
            "this file has no sweep",
        ],
    );
    std::fs::write(dir.join("corrupt.h5"), b"\x89HDF\r\n\x1a\nnot really").unwrap();
    rejected(
        &dir,
        &["fit", "corrupt.h5"],
        &["corrupt.h5", "not a readable HDF5 file"],
    );
    hdf5::File::create(dir.join("foreign.h5")).unwrap();
    rejected(
        &dir,
        &["fit", "foreign.h5"],
        &["foreign.h5", "not an asemc output file"],
    );
    rejected(
        &dir,
        &["fit", "missing.h5"],
        &["missing.h5", "no such file"],
    );
    std::fs::remove_dir_all(&dir).ok();
}
