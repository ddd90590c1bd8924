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

/// The repository's `configs/` directory.
pub fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}
