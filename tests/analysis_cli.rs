//! `asemc fit`, `summary` and `plot` on real sweeps of the example configs (made small),
//! and their errors for files and arguments they cannot use.

mod common;
use common::{SMALL_FILM, run_asemc, run_config, scratch, set_args};

/// Run an example config made small and quick, into `out`.
fn run_small(dir: &std::path::Path, config: &str, out: &str, extra: &[&str]) {
    let own = [
        "platelets.samples_per_cell=100",
        "run.duration_ps=1",
        "run.packets_per_step=64",
    ];
    let sets = set_args(
        SMALL_FILM
            .into_iter()
            .chain(own)
            .chain(extra.iter().copied()),
    );
    let mut args = vec!["-o", out, "-q"];
    args.extend(sets.iter().map(String::as_str));
    let o = run_config("run", config, &args, dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `asemc plot FILE -o OUT EXTRA…` in `dir`, which must succeed: the figures'
/// directory and the command's output.
fn plot(
    dir: &std::path::Path,
    file: &str,
    out: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::process::Output) {
    let mut args = vec!["plot", file, "-o", out];
    args.extend_from_slice(extra);
    let o = run_asemc(&args, dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (dir.join(out), o)
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

    // The figures of both sweeps.
    let (plots, o) = plot(&dir, "fl.h5", "fl-plots", &[]);
    let listed = String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(listed, 6, "{}", String::from_utf8_lossy(&o.stdout));
    check_figure(
        &plots,
        "light_in_out",
        SINGLE,
        &["pump fluence (µJ/cm²)", "threshold", "two-line fit"],
    );
    check_figure(
        &plots,
        "spectra",
        DOUBLE,
        &["wavelength (nm)", "edge FWHM (nm)", "20 µJ/cm²"],
    );
    check_figure(
        &plots,
        "evolution_point_5",
        DOUBLE,
        &[
            "time after the pump (ps)",
            "net material gain (cm⁻¹)",
            "n = 0",
        ],
    );
    let (plots, _) = plot(
        &dir,
        "vsl.h5",
        "vsl-plots",
        &["--point", "2", "--max-length-um", "80"],
    );
    check_figure(
        &plots,
        "vsl",
        SINGLE,
        &["stripe length (µm)", "cm⁻¹ (20–80 µm)"],
    );
    check_figure(&plots, "spectra", DOUBLE, &["100 µm"]);
    check_figure(
        &plots,
        "evolution_point_2",
        DOUBLE,
        &["fraction of platelets"],
    );
    assert!(!plots.join("light_in_out.png").exists());

    // A passive-transport sweep (the quickstart, with fewer photons).
    let o = run_config(
        "run",
        "quickstart.toml",
        &["-o", "quick.h5", "-q", "--set", "source.photons=20000"],
        &dir,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (plots, _) = plot(&dir, "quick.h5", "quick-plots", &[]);
    check_figure(
        &plots,
        "escape",
        SINGLE,
        &[
            "film.refractive_index",
            "transmitted (bottom)",
            "film edges (all four)",
        ],
    );
    check_figure(
        &plots,
        "time_of_flight_point_2",
        SINGLE,
        &["time since launch (ps)", "edge x+"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// SVG size of a one-panel and a two-panel figure, and the PNG's scale.
const SINGLE: (u32, u32) = (900, 600);
const DOUBLE: (u32, u32) = (1500, 600);
const PNG_SCALE: u32 = 2;

/// `dir/stem.svg` has the expected size and texts; `dir/stem.png` the expected pixel
/// size, and is a drawing: some pixels are not white, in several colours.
fn check_figure(dir: &std::path::Path, stem: &str, size: (u32, u32), texts: &[&str]) {
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
    assert!(
        svg.starts_with(&format!("<svg width=\"{}\" height=\"{}\"", size.0, size.1)),
        "{stem}.svg: {}",
        &svg[..80.min(svg.len())]
    );
    for t in texts {
        assert!(svg.contains(t), "{stem}.svg lacks {t:?}");
    }
    let file = std::fs::File::open(dir.join(format!("{stem}.png"))).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height),
        (size.0 * PNG_SCALE, size.1 * PNG_SCALE),
        "{stem}.png"
    );
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let drawn = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|v| *v < 240))
        .count();
    let fraction = drawn as f64 / pixels.len() as f64;
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    println!(
        "{stem}.png: {:.1} % drawn, {} colours",
        100.0 * fraction,
        colours.len()
    );
    assert!(
        fraction > 0.02,
        "{stem}.png: {:.2} % drawn",
        100.0 * fraction
    );
    assert!(colours.len() > 20, "{stem}.png: {} colours", colours.len());
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
    asemc::output::h5file::create(&dir.join("foreign.h5")).unwrap();
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
    rejected(
        &dir,
        &["fit", "one.h5", "--min-length-um", "-5"],
        &["--min-length-um -5", "must be a length ≥ 0"],
    );
    rejected(
        &dir,
        &["plot", "foreign.h5", "-o", "plots"],
        &["foreign.h5", "not an asemc output file"],
    );
    rejected(
        &dir,
        &["plot", "one.h5", "-o", "plots", "--point", "3"],
        &["--point 3", "one.h5 has no finished point 3 (points 0–0)"],
    );
    assert!(
        !dir.join("plots").exists(),
        "a refused plot created its directory"
    );
    std::fs::remove_dir_all(&dir).ok();
}
