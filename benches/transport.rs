//! Transport throughput on the MCML benchmark slab (n = 1.5): photon packets per second
//! and interaction steps per second, median of several runs, on 1 thread and on all.
//! Run with `cargo bench --bench transport`.

use std::path::Path;
use std::time::Instant;

use asemc::config::load;
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
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "cpu, {threads} thread(s): {:.3e} photons/s, {:.3e} photon steps/s",
            median(&mut rates),
            median(&mut step_rates)
        );
    }
}
