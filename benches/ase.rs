//! ASE engine throughput on the medium-crown film with 10⁶ sampled platelets:
//! platelet steps per second, photon steps (packet path segments) per second, and the
//! process's peak memory. Run with `cargo bench --bench ase`.

use std::path::Path;
use std::time::Instant;

use asemc::ase::{self, AseSetup};
use asemc::config::load;

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/examples/medium_crown.toml");
    // 40 × 8 cells of 3125 platelets = 10⁶ sampled platelets; 5 ps of the run.
    let overrides: Vec<String> = [
        "platelets.samples_per_cell=3125",
        "run.duration_ps=5",
        "run.packets_per_step=64",
        "tally.time_bins=10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let resolved = load(&path, &overrides).expect("benchmark config");
    println!("ASE benchmark: medium-crown film, 10⁶ sampled platelets, 5 ps after the pump (cpu)");
    for fluence in [2.7, 27.0] {
        let mut c = resolved.points[0].clone();
        c.pump.as_mut().unwrap().fluence_uj_cm2 = Some(fluence);
        let setup = AseSetup::from_config(&c).unwrap();
        let start = Instant::now();
        let out = ase::run(&setup, 0, &|_| {});
        let s = start.elapsed().as_secs_f64();
        println!(
            "{fluence:>5} µJ/cm²: {} platelets × {} steps in {s:.2} s: {:.3e} platelet steps/s, {:.3e} photon steps/s ({} packets)",
            out.platelets,
            out.steps,
            out.platelet_steps as f64 / s,
            out.photon_segments as f64 / s,
            out.packets
        );
    }
    if let Some(mib) = peak_memory_mib() {
        println!("peak memory: {mib:.0} MiB");
    }
}
