//! ASE engine throughput on the medium-crown film with 10⁶ sampled platelets:
//! platelet steps per second of the whole engine, photon steps (packet path segments)
//! per second of its photon transport alone, and the process's peak memory, on the CPU
//! backend and, when wgpu finds an adapter, on the GPU backend (the platelets, their
//! gain spectra, the photon transport and the sums of the tallies on the device), with
//! the bare photon random walk on the same adapter as its ceiling. Run with
//! `cargo bench --bench ase`.

use std::path::Path;
use std::time::Instant;

use asemc::ase::{self, AseOutput, AseSetup};
use asemc::config::load;
use asemc::gpu::stages;
use asemc::gpu::{Gpu, random_walk_rate};

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Print a run's rates; returns the photon steps per second of its transport alone.
fn report(backend: &str, label: &str, out: &AseOutput, s: f64) -> f64 {
    let photon_rate = out.photon_segments as f64 / out.transport_s;
    println!(
        "{backend} {label}: {} platelets × {} steps in {s:.2} s: {:.3e} platelet steps/s; {} photon steps ({} packets) in {:.2} s of transport: {photon_rate:.3e} photon steps/s",
        out.platelets,
        out.steps,
        out.platelet_steps as f64 / s,
        out.photon_segments,
        out.packets,
        out.transport_s,
    );
    photon_rate
}

/// Run point `c` on the CPU and, when there is an adapter, on the GPU backend (the
/// platelets, gain spectra and tallies on the device); print them both, and the GPU
/// transport's rate against the bare random walk.
fn compare(gpu: Option<&Gpu>, c: &asemc::config::Config, label: &str) {
    let setup = AseSetup::from_config(c).unwrap();
    let start = Instant::now();
    let out = ase::run(&setup, 0, &|_| {});
    report("cpu", label, &out, start.elapsed().as_secs_f64());
    if let Some(gpu) = gpu {
        // Far above threshold a software adapter books the device's excitons one
        // workgroup round after another on the CPU's cores: minutes for this case.
        if gpu.is_software() && setup.pump.mean_excitons > 10.0 {
            println!(
                "gpu {label}: not run on a software adapter (⟨N⟩ above 10: the device's bookings take minutes there)"
            );
            return;
        }
        let start = Instant::now();
        let out = stages::run(gpu, &setup, 0, &|_| {}).expect("GPU run");
        let rate = report("gpu", label, &out, start.elapsed().as_secs_f64());
        let walk = random_walk_rate(gpu, 16_384, 4, 1000).expect("random walk");
        println!(
            "    bare random walk on the same adapter: {walk:.3e} steps/s; the engine's photon steps run at {:.1} % of it",
            100.0 * rate / walk
        );
    }
}

fn main() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/examples");
    let gpu = Gpu::open().expect("wgpu");
    match &gpu {
        Some(g) => println!("GPU: {}", g.describe()),
        None => println!("gpu: wgpu finds no adapter here; CPU figures only"),
    }

    // Platelet-bound: 40 × 8 cells of 3125 platelets = 10⁶ sampled platelets, few
    // packets; 5 ps of the run.
    let overrides: Vec<String> = [
        "platelets.samples_per_cell=3125",
        "run.duration_ps=5",
        "run.packets_per_step=64",
        "tally.time_bins=10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let resolved = load(&examples.join("medium_crown.toml"), &overrides).expect("benchmark config");
    println!(
        "\nmedium-crown film, 10⁶ sampled platelets, 64 packets per step, 5 ps after the pump:"
    );
    for fluence in [2.7, 27.0] {
        let mut c = resolved.points[0].clone();
        c.pump.as_mut().unwrap().fluence_uj_cm2 = Some(fluence);
        compare(gpu.as_ref(), &c, &format!("{fluence} µJ/cm²"));
    }

    // Photon-bound: the fluence sweep's film (1.8·10⁴ platelets, 1024 packets per
    // step), 3 ps at 5 µJ/cm².
    let resolved = load(&examples.join("fluence_sweep.toml"), &[]).expect("benchmark config");
    let mut c = resolved.points[0].clone();
    c.pump.as_mut().unwrap().fluence_uj_cm2 = Some(5.0);
    println!(
        "\nfluence-sweep film, 1.8·10⁴ sampled platelets, 1024 packets per step, 3 ps at 5 µJ/cm²:"
    );
    compare(gpu.as_ref(), &c, "5 µJ/cm²");

    if let Some(mib) = peak_memory_mib() {
        println!("\npeak memory: {mib:.0} MiB");
    }
}
