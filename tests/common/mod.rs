//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use asemc::config::{Config, from_text};
use asemc::transport::{Tally, TransportSetup, simulate};

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
    let f = hdf5::File::open(path).unwrap();
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
            let v = at
                .read_scalar::<f64>()
                .or_else(|_| at.read_scalar::<u64>().map(|v| v as f64))
                .unwrap();
            out.push((format!("{n}@{a}"), vec![v.to_bits()]));
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
