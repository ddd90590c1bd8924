//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use asemc::config::{Config, from_text};
use asemc::transport::{Channel, Tally, TransportSetup, simulate};

/// The single point of a config given as TOML text.
pub fn config(text: &str) -> Config {
    let resolved = from_text(Path::new("test.toml"), text, &[]).expect("valid test config");
    assert_eq!(resolved.points.len(), 1);
    resolved.points.into_iter().next().unwrap()
}

/// Run the transport of `config` as sweep point 0 on a pool of `threads` threads.
pub fn transport(config: &Config, threads: usize) -> Tally {
    let setup = TransportSetup::from_config(config).unwrap();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| simulate(&setup, 0, &|_| {}))
}

/// Assert that a Monte Carlo estimate agrees with a reference within `k` standard errors.
pub fn assert_within_sigma(what: &str, value: f64, stderr: f64, reference: f64, k: f64) {
    let dev = (value - reference).abs();
    assert!(
        dev <= k * stderr,
        "{what}: {value:.6} ± {stderr:.6} differs from {reference:.6} by {dev:.3e} = {:.2}σ (allowed {k}σ)",
        dev / stderr
    );
}

/// The asemc binary built for these tests.
pub fn asemc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_asemc"))
}

pub fn run_asemc(args: &[&str], dir: &Path) -> Output {
    asemc()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("asemc runs")
}

/// `asemc COMMAND CONFIG ARGS…` in `dir`, CONFIG a file of the repository's `configs/`.
pub fn run_config(command: &str, config: &str, args: &[&str], dir: &Path) -> Output {
    let cfg = configs_dir().join(config);
    let mut all = vec![command, cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    run_asemc(&all, dir)
}

/// Start `command` in `dir`, read its standard error until a line contains `text`,
/// then kill it (SIGKILL) and wait for it.
pub fn kill_after_line(command: &mut Command, dir: &Path, text: &str) {
    let mut child = command
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains(text) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A fresh empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asemc-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Overrides that cut an example film down to a 120 µm × 40 µm piece on a coarse grid,
/// for quick runs.
pub const SMALL_FILM: [&str; 5] = [
    "film.length_um=120",
    "film.width_um=40",
    "grid.cells_x=12",
    "grid.cells_y=2",
    "tally.time_bins=5",
];

/// `--set` arguments for each override.
pub fn set_args<'a>(overrides: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    overrides
        .into_iter()
        .flat_map(|s| ["--set".to_string(), s.to_string()])
        .collect()
}

/// The repository's `configs/` directory.
pub fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

/// Every dataset and every point attribute but the wall time, point by point, as the
/// bits of its f64 values (so equal means bit for bit, NaN included).
pub fn contents(path: &std::path::Path) -> Vec<(String, Vec<u64>)> {
    let f = asemc::output::h5file::open(path).unwrap();
    let points = f.group("points").unwrap();
    let mut names = points.member_names().unwrap();
    names.sort();
    let mut out = Vec::new();
    for n in names {
        let g = points.group(&n).unwrap();
        let mut attrs = g.attr_names().unwrap();
        attrs.sort();
        for a in attrs.iter().filter(|a| a.as_str() != "wall_time_s") {
            let at = g.attr(a).unwrap();
            let bits = match at
                .read_scalar::<f64>()
                .or_else(|_| at.read_scalar::<u64>().map(|v| v as f64))
            {
                Ok(v) => vec![v.to_bits()],
                // Text (the notes): its bytes.
                Err(_) => at
                    .read_scalar::<hdf5::types::VarLenUnicode>()
                    .unwrap()
                    .as_bytes()
                    .iter()
                    .map(|&b| u64::from(b))
                    .collect(),
            };
            out.push((format!("{n}@{a}"), bits));
        }
        let mut ds = g.member_names().unwrap();
        ds.sort();
        for d in ds {
            out.push((
                format!("{n}/{d}"),
                g.dataset(&d)
                    .unwrap()
                    .read_raw::<f64>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect(),
            ));
        }
    }
    out
}

/// The GPU, or `None` (the test prints that it was skipped) when wgpu finds no adapter
/// and none is required; under CI (`ASEMC_REQUIRE_GPU` set) a missing adapter fails.
pub fn gpu() -> Option<asemc::gpu::Gpu> {
    match asemc::gpu::Gpu::open().expect("the GPU opens") {
        Some(g) => {
            println!("GPU: {}", g.describe());
            Some(g)
        }
        None => {
            assert!(
                std::env::var_os("ASEMC_REQUIRE_GPU").is_none(),
                "ASEMC_REQUIRE_GPU is set but wgpu finds no adapter (install mesa-vulkan-drivers)"
            );
            println!("skipped: wgpu finds no adapter here");
            None
        }
    }
}

/// A 120 µm × 40 µm piece of the medium-crown film, pumped over 100 µm × 20 µm, with
/// further `extra` overrides.
pub fn small_film(extra: &[&str]) -> Config {
    let overrides: Vec<String> = [
        "film.length_um=120",
        "film.width_um=40",
        "pump.stripe_length_um=100",
        "pump.stripe_width_um=20",
        "grid.cells_x=12",
        "grid.cells_y=4",
        "platelets.samples_per_cell=500",
        "run.packets_per_step=64",
        "run.duration_ps=10",
        "tally.time_bins=20",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    let r = asemc::config::load(
        &configs_dir().join("examples/medium_crown.toml"),
        &overrides,
    )
    .unwrap();
    r.points.into_iter().next().unwrap()
}

/// A 150 µm × 60 µm piece of the medium-crown film pumped at `fluence` (µJ/cm²) over
/// 120 µm × 20 µm at the +x edge, for 20 ps: the unpumped flanks absorb light leaving
/// the stripe sideways, and the detector takes everything leaving the stripe's end
/// facet. `extra` overrides come last.
pub fn stripe_film(fluence: f64, extra: &[&str]) -> Config {
    let fluence = format!("pump.fluence_uj_cm2={fluence}");
    let mut o = vec![
        "film.length_um=150",
        "film.width_um=60",
        "pump.stripe_length_um=120",
        "grid.cells_x=15",
        "grid.cells_y=6",
        "platelets.samples_per_cell=300",
        "run.packets_per_step=1024",
        "run.duration_ps=20",
        "detector.acceptance_half_angle_deg=90",
        &fluence,
    ];
    o.extend_from_slice(extra);
    small_film(&o)
}

/// Start of the steady-state window of the detector's time trace in the small-signal
/// VSL tests, ps.
pub const STEADY_FROM_PS: f64 = 5.0;

/// The configured net gain of `c` at the line centre, from the closed form
/// g = ρσ₀(1 − 2P₀ − P₁) − α with Poisson P₀, P₁ of the pump's mean excitons, cm⁻¹.
pub fn configured_gain(c: &Config) -> f64 {
    let mean = c.pump.as_ref().unwrap().mean_excitons.unwrap();
    let (p0, p1) = ((-mean).exp(), mean * (-mean).exp());
    c.platelets.density_per_cm3.unwrap()
        * c.platelets.peak_cross_section_cm2
        * (1.0 - 2.0 * p0 - p1)
        - c.film.absorption_per_cm
}

/// Assert that the tally `t` of `channel` agrees with a reference within `k` standard
/// errors ([`assert_within_sigma`] of its mean and standard error).
pub fn assert_channel_within_sigma(
    what: &str,
    t: &Tally,
    channel: Channel,
    reference: f64,
    k: f64,
) {
    assert_within_sigma(what, t.mean(channel), t.stderr(channel), reference, k);
}

/// Mean and standard error of the mean: the library's, which the replicas use.
#[allow(unused_imports)]
pub use asemc::ase::replicas::mean_and_stderr as mean_and_error;

/// The root of `f` in (lo, hi), where `f` is positive below it and not above, by
/// `steps` bisections.
pub fn bisect(f: impl Fn(f64) -> f64, lo: f64, hi: f64, steps: usize) -> f64 {
    let (mut a, mut b) = (lo, hi);
    for _ in 0..steps {
        let mid = 0.5 * (a + b);
        if f(mid) > 0.0 {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

/// ∫ₐᵇ f by Simpson's rule over `m` (even) intervals.
pub fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, m: usize) -> f64 {
    let h = (b - a) / m as f64;
    (0..=m)
        .map(|k| {
            let w = if k == 0 || k == m {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * f(a + k as f64 * h)
        })
        .sum::<f64>()
        * h
        / 3.0
}

/// Assert a VSL fit's gain against the medium's `configured` one: within 3σ of the fit's
/// own error, plus the bias of the detector cone. Inside the acceptance cone (θ in the
/// film) a path is longer than the stripe by up to 1/cos θ − 1, so the fitted g may lie
/// that fraction below the medium's: a bias the fit's σ (from the scatter about the
/// fit) does not hold.
pub fn assert_vsl_gain(
    what: &str,
    fit: &asemc::analysis::fit::VslFit,
    configured: f64,
    c: &Config,
) {
    let sigma = fit.gain_uncertainty / 1.96;
    let inside =
        (c.detector.acceptance_half_angle_deg.to_radians().sin() / c.film.refractive_index).asin();
    let cone = (1.0 / inside.cos() - 1.0) * configured.abs();
    println!(
        "{what}: fitted g = {:.2} ± {sigma:.2} cm⁻¹ (configured {configured:.2} cm⁻¹, cone bias ≤ {cone:.2} cm⁻¹)",
        fit.gain
    );
    assert!(
        (fit.gain - configured).abs() <= 3.0 * sigma + cone,
        "{what}: fitted g = {:.2} ± {sigma:.2} cm⁻¹, configured {configured:.2} cm⁻¹",
        fit.gain
    );
}

/// How far the passive transport's channels may sum from 1 for `packets` packets of `c`:
/// Russian roulette's net weight, zero on average, at 5σ. A play at weight w below the
/// threshold adds w(1/p − 1) with chance p and removes w otherwise, a variance of
/// w²(1/p − 1) ≤ (1/p − 1)·threshold²; a packet plays 1/(1 − p) times on average (it
/// plays again only if it survived), at most twice counted here.
pub fn roulette_bound(c: &Config, packets: u64) -> f64 {
    let (threshold, p) = (c.run.roulette_weight, c.run.roulette_survival);
    let n = packets as f64;
    5.0 * threshold * ((1.0 / p - 1.0) * 2.0 * n).sqrt() / n
}

/// How far the GPU's books may be from balance, relative to what flowed through them:
/// the device's terms are single precision, each rounded by at most 2⁻²⁴ of itself
/// before the exact fixed-point sums, so the balance is off by at most twice that
/// (3.7e-8 measured, so a tenfold regression fails).
pub const GPU_BALANCE_ROUNDING: f64 = 1.0 / (1u64 << 23) as f64;
