//! Transport throughput on the MCML benchmark slab (n = 1.5): photon packets per second
//! and interaction steps per second, median of several runs, on the CPU (1 thread and
//! all) and on the GPU (when wgpu finds an adapter), with the bare photon random walk
//! of `shaders/random_walk.wgsl` as the device's practical ceiling.
//! Run with `cargo bench --bench transport`.

use std::path::Path;
use std::time::Instant;

use asemc::config::load;
use asemc::gpu::{Gpu, random_walk_rate, transport};
use asemc::transport::{TransportSetup, simulate};

/// Timed repetitions per thread count; the median is reported.
const REPEATS: usize = 5;
/// Packets per repetition.
const PHOTONS: u64 = 1_000_000;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/validation/mcml_slab.toml");
    let resolved = load(&path, &[format!("source.photons={PHOTONS}")]).expect("benchmark config");
    let setup = TransportSetup::from_config(&resolved.points[0]).expect("passive source");
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("transport benchmark: MCML slab n = 1.5, {PHOTONS} packets, median of {REPEATS}");
    for threads in [1, all] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut rates = Vec::new();
        let mut step_rates = Vec::new();
        for _ in 0..REPEATS {
            let start = Instant::now();
            let tally = pool.install(|| simulate(&setup, 0, &|_| {}));
            let s = start.elapsed().as_secs_f64();
            rates.push(tally.photons as f64 / s);
            step_rates.push(tally.steps as f64 / s);
        }
        println!(
            "cpu, {threads} thread(s): {:.3e} photons/s, {:.3e} photon steps/s",
            median(&mut rates),
            median(&mut step_rates)
        );
    }
    let Some(gpu) = Gpu::open().expect("the GPU opens") else {
        println!("gpu: no adapter found; skipped");
        return;
    };
    let (mut rates, mut step_rates, mut walk) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..REPEATS {
        let start = Instant::now();
        let tally = transport::simulate(&gpu, &setup, 0, &|_| {}).expect("GPU transport");
        let s = start.elapsed().as_secs_f64();
        rates.push(tally.photons as f64 / s);
        step_rates.push(tally.steps as f64 / s);
        walk.push(random_walk_rate(&gpu, 16_384, 4, 1000).expect("random walk"));
    }
    let (r, st, w) = (
        median(&mut rates),
        median(&mut step_rates),
        median(&mut walk),
    );
    println!(
        "gpu, {}: {r:.3e} photons/s, {st:.3e} photon steps/s; bare random walk {w:.3e} steps/s (transport at {:.1} % of it)",
        gpu.describe(),
        100.0 * st / w
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
