//! The CPU backend: the transport core on a rayon thread pool.

use super::{Backend, run_by_source};
use crate::ase;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::result::{Array, PointResult, Scalar};
use crate::transport::tally::TIMED_EXITS;
use crate::transport::{Channel, Tally, simulate};

/// Runs points on a rayon pool of a fixed size.
pub struct CpuBackend {
    pool: rayon::ThreadPool,
}

impl CpuBackend {
    /// A pool of `threads` threads (all cores when `None`).
    pub fn new(threads: Option<usize>) -> Result<Self> {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            if n == 0 {
                return Err(Error::Usage("--threads 0: give at least 1 thread".into()));
            }
            builder = builder.num_threads(n);
        }
        let pool = builder
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start the CPU thread pool: {e}")))?;
        Ok(Self { pool })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Run `f` on this backend's pool.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn adapter(&self) -> String {
        format!("{} threads", self.threads())
    }

    fn run_point(
        &self,
        config: &Config,
        point: u32,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PointResult> {
        run_by_source(
            config,
            |replicas| {
                Ok(self
                    .pool
                    .install(|| run_replicas(replicas, point, progress)))
            },
            |setup| Ok(self.pool.install(|| simulate(setup, point, progress))),
        )
    }
}

/// Sampled platelets (all replicas') below which a batch's replicas run side by side;
/// larger films run one replica at a time, each over every thread, so that the
/// memory held stays that of one replica. Either way each replica's result is its
/// own, so the point's is the same.
const SIDE_BY_SIDE_PLATELETS: usize = 20_000_000;

/// The ASE engine on `replicas`, in order.
fn run_replicas(
    replicas: &[ase::AseSetup],
    point: u32,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<ase::AseOutput> {
    use rayon::prelude::*;
    let platelets: usize = replicas
        .iter()
        .map(|s| s.samples_per_cell * s.grid.cells())
        .sum();
    if platelets <= SIDE_BY_SIDE_PLATELETS {
        replicas
            .par_iter()
            .map(|s| ase::run(s, point, progress))
            .collect()
    } else {
        replicas
            .iter()
            .map(|s| ase::run(s, point, progress))
            .collect()
    }
}

/// Units of the transport tallies.
const FRACTION: &str = "fraction of launched photons";

/// The named results of a transport tally.
pub fn transport_result(tally: &Tally, wall_time_s: f64) -> PointResult {
    let scalars = Channel::ALL
        .iter()
        .map(|&c| Scalar {
            name: c.name().to_string(),
            value: tally.mean(c),
            stderr: Some(tally.stderr(c)),
            units: FRACTION.to_string(),
        })
        .collect();
    let bins = tally.bins;
    let n = tally.photons as f64;
    let time_ps = (0..bins.bins)
        .map(|i| (i as f64 + 0.5) * bins.width_ps())
        .collect();
    let rows: Vec<&str> = TIMED_EXITS.iter().map(|c| c.name()).collect();
    PointResult {
        scalars,
        arrays: vec![
            Array {
                name: "time_ps".into(),
                shape: vec![bins.bins],
                data: time_ps,
                units: "ps".into(),
                attributes: vec![(
                    "description".into(),
                    "centres of the time-of-flight bins".into(),
                )],
            },
            Array {
                name: "time_of_flight".into(),
                shape: vec![TIMED_EXITS.len(), bins.bins],
                data: tally.time.iter().map(|w| w / n).collect(),
                units: format!("{FRACTION} per bin"),
                attributes: vec![
                    ("rows".into(), rows.join(",")),
                    ("columns".into(), "time_ps".into()),
                ],
            },
        ],
        photons: tally.photons,
        photon_steps: tally.steps,
        wall_time_s,
        notes: Vec::new(),
    }
}
