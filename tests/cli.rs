//! End to end through the binary: sweeps, the output file's layout, `summary --json`,
//! `check`, and overrides.

mod common;
use std::path::Path;

use asemc::config::{Combine, from_text};
use asemc::output::OutputReader;
use common::{run_asemc, run_config, scratch};

const BASE: &str =
    "[film]\nthickness_nm = 150.0\nrefractive_index = 1.75\n[source]\nphotons = 2000\n";

#[test]
fn product_sweep_varies_the_first_axis_slowest() {
    let text = format!(
        "{BASE}[sweep]\n[[sweep.axes]]\nkey = \"film.thickness_nm\"\nvalues = [100, 200]\n\
         [[sweep.axes]]\nkey = \"film.absorption_per_cm\"\nlinspace = [0, 10, 3]\n"
    );
    let r = from_text(Path::new("t.toml"), &text, &[]).unwrap();
    assert_eq!(r.base.sweep.as_ref().unwrap().combine, Combine::Product);
    assert_eq!(r.plan.keys, ["film.thickness_nm", "film.absorption_per_cm"]);
    let expected = [
        [100.0, 0.0],
        [100.0, 5.0],
        [100.0, 10.0],
        [200.0, 0.0],
        [200.0, 5.0],
        [200.0, 10.0],
    ];
    assert_eq!(r.plan.points, expected.map(|p| p.to_vec()).to_vec());
    assert_eq!(r.points[4].film.thickness_nm, 200.0);
    assert_eq!(r.points[4].film.absorption_per_cm, 5.0);
    assert!(r.points.iter().all(|p| p.sweep.is_none()));
}

#[test]
fn zip_sweep_and_logspace() {
    let text = format!(
        "{BASE}[sweep]\ncombine = \"zip\"\n[[sweep.axes]]\nkey = \"film.scattering_per_cm\"\nlogspace = [1, 1000, 4]\n\
         [[sweep.axes]]\nkey = \"source.photons\"\nvalues = [10, 20, 30, 40]\n"
    );
    let r = from_text(Path::new("t.toml"), &text, &[]).unwrap();
    let s: Vec<f64> = r.points.iter().map(|p| p.film.scattering_per_cm).collect();
    for (got, want) in s.iter().zip([1.0, 10.0, 100.0, 1000.0]) {
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    }
    // The ends are the given values exactly, in linspace and logspace alike, and a
    // count of 1 gives the first alone.
    assert_eq!((s[0], s[3]), (1.0, 1000.0));
    let photons: Vec<u64> = r.points.iter().map(|p| p.source.photons).collect();
    assert_eq!(photons, [10, 20, 30, 40]);
    let one_axis = |axis: &str| -> Vec<f64> {
        let text = format!("{BASE}[sweep]\n[[sweep.axes]]\nkey = \"film.anisotropy\"\n{axis}\n");
        let r = from_text(Path::new("t.toml"), &text, &[]).unwrap();
        r.points.iter().map(|p| p.film.anisotropy).collect()
    };
    let lin = one_axis("linspace = [0.1, 0.7, 7]");
    assert_eq!((lin[0], lin[6], lin.len()), (0.1, 0.7, 7));
    let log = one_axis("logspace = [0.03, 0.9, 9]");
    assert_eq!((log[0], log[8], log.len()), (0.03, 0.9, 9));
    assert_eq!(one_axis("linspace = [0.3, 0.7, 1]"), [0.3]);
    assert_eq!(one_axis("logspace = [0.3, 0.7, 1]"), [0.3]);
}

#[test]
fn zip_sweep_needs_equal_lengths() {
    let text = format!(
        "{BASE}[sweep]\ncombine = \"zip\"\n[[sweep.axes]]\nkey = \"film.thickness_nm\"\nvalues = [1, 2]\n\
         [[sweep.axes]]\nkey = \"film.absorption_per_cm\"\nvalues = [1, 2, 3]\n"
    );
    let e = from_text(Path::new("t.toml"), &text, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t.toml:11:1: sweep.axes[1]: combine = \"zip\" needs axes of equal length"),
        "{e}"
    );
}

#[test]
fn overrides_accept_toml_values_and_bare_words() {
    let r = from_text(
        Path::new("t.toml"),
        BASE,
        &[
            "film.length_um=1e3".into(),
            "source.kind=isotropic".into(),
            "run.seed=12".into(),
        ],
    )
    .unwrap();
    assert_eq!(r.base.film.length_um, 1000.0);
    assert_eq!(r.base.source.kind, asemc::config::SourceKind::Isotropic);
    assert_eq!(r.base.run.seed, 12);
}

#[test]
fn run_writes_the_documented_layout_and_summary_reads_it() {
    let dir = scratch("layout");
    let out = run_config(
        "run",
        "quickstart.toml",
        &["-o", "q.h5", "--set", "source.photons=3000", "--seed", "5"],
        &dir,
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // `auto` takes a hardware GPU where there is one, else the CPU: the log names
    // the choice, and the file records the same.
    let chosen = if log.contains("backend auto: using gpu") {
        "gpu"
    } else {
        "cpu"
    };
    assert!(
        log.contains(&format!("using {chosen}")),
        "the log names the backend: {log}"
    );
    assert!(!dir.join("q.h5.partial").exists());

    let file = asemc::output::h5file::open(&dir.join("q.h5")).unwrap();
    let root_str = |name: &str| {
        file.attr(name)
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .as_str()
            .to_string()
    };
    assert_eq!(root_str("format"), "asemc");
    assert_eq!(root_str("asemc_version"), env!("CARGO_PKG_VERSION"));
    assert!(!root_str("git_commit").is_empty());
    assert_eq!(root_str("backend"), chosen);
    assert_eq!(root_str("source_hash").len(), 16);
    assert!(root_str("config_toml").contains("seed = 5"));
    assert_eq!(file.attr("seed").unwrap().read_scalar::<u64>().unwrap(), 5);
    assert_eq!(
        file.attr("format_version")
            .unwrap()
            .read_scalar::<u64>()
            .unwrap(),
        1
    );
    assert!(
        file.attr("wall_time_s")
            .unwrap()
            .read_scalar::<f64>()
            .unwrap()
            > 0.0
    );
    let points = file.group("points").unwrap();
    let mut names = points.member_names().unwrap();
    names.sort();
    assert_eq!(names, ["0000", "0001", "0002"]);
    for (i, name) in names.iter().enumerate() {
        let g = points.group(name).unwrap();
        let n = g
            .attr("film.refractive_index")
            .unwrap()
            .read_scalar::<f64>()
            .unwrap();
        assert_eq!(n, [1.65, 1.75, 1.85][i]);
        for ds in g.datasets().unwrap() {
            assert!(ds.attr("units").is_ok(), "{} has no units", ds.name());
        }
    }

    let json = run_asemc(&["summary", "q.h5", "--json"], &dir);
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let pts = v["points"].as_array().unwrap();
    assert_eq!(pts.len(), 3);
    for key in [
        "reflectance_specular",
        "reflectance_diffuse",
        "transmittance_total",
        "absorbed_fraction",
        "edge_x_minus",
        "edge_x_plus",
        "edge_y_minus",
        "edge_y_plus",
    ] {
        assert!(pts[1][key].is_number(), "summary lacks {key}");
    }
    assert_eq!(pts[2]["film.refractive_index"], 1.85);
    assert_eq!(pts[0]["photons"], 3000);
    // Every launched photon is accounted for (no loss channel here but roulette noise).
    let p = &pts[0];
    let total: f64 = [
        "reflectance_diffuse",
        "transmittance_total",
        "absorbed_fraction",
        "edge_x_minus",
        "edge_x_plus",
        "edge_y_minus",
        "edge_y_plus",
        "guided_fraction",
        "unresolved_fraction",
    ]
    .iter()
    .map(|k| p[*k].as_f64().unwrap())
    .sum();
    let c = &asemc::config::load(&common::configs_dir().join("quickstart.toml"), &[])
        .unwrap()
        .points[0];
    let bound = common::roulette_bound(c, 3000);
    assert!((total - 1.0).abs() <= bound, "{total}, bound {bound:.2e}");

    let reader = OutputReader::open(&dir.join("q.h5")).unwrap();
    let (shape, tof) = reader.dataset(1, "time_of_flight").unwrap();
    assert_eq!(shape, [6, 200]);
    assert!(tof.iter().sum::<f64>() > 0.5);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn summary_of_a_foreign_file_is_bad_input() {
    let dir = scratch("foreign");
    std::fs::write(dir.join("x.h5"), b"not hdf5 at all").unwrap();
    let out = run_asemc(&["summary", "x.h5", "--json"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.h5: not a readable HDF5 file"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_prints_the_resolved_config_plan_and_cost() {
    let out = run_config(
        "check",
        "quickstart.toml",
        &["--set", "source.photons=5000"],
        Path::new("."),
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("photons = 5000"), "{text}");
    assert!(text.contains("# sweep plan: 3 point(s)"), "{text}");
    assert!(
        text.contains("point\tfilm.refractive_index\tphotons"),
        "{text}"
    );
    assert!(text.contains("1\t1.75\t5000"), "{text}");
    assert!(
        text.contains("# cost: 15000 photon packets in all"),
        "{text}"
    );
}

#[test]
fn check_estimates_a_pump_run_in_time_steps() {
    let out = run_config(
        "check",
        "examples/medium_crown.toml",
        &["--set", "run.duration_ps=2"],
        Path::new("."),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("point\tsteps"), "{text}");
    assert!(text.contains("0\t800"), "2 ps at 20 fs, 8 replicas: {text}");
    assert!(
        text.contains("# steps: 100 time steps a replica × 8 replicas a point"),
        "{text}"
    );
    assert!(text.contains("# cost: 800 time steps in all"), "{text}");
    // The medium-crown film (150 nm, n = 1.75, on fused silica) at 480 nm guides TE0
    // and TM0, each with both modal-gain factors.
    assert!(
        text.contains("# guided modes of the film (150 nm, n = 1.75)"),
        "{text}"
    );
    for mode in ["#   TE0  n_eff = ", "#   TM0  n_eff = "] {
        assert!(text.contains(mode), "{mode}: {text}");
    }
    assert!(!text.contains("#   TE1"), "{text}");
    assert!(text.contains("Γ'∥ = "), "{text}");
}
