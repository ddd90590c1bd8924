//! Running many packets on the CPU with rayon. Packets are grouped in fixed chunks;
//! each packet has its own random stream keyed by (seed, point, packet index), and
//! chunk tallies are added in chunk order, so the result is the same bit for bit on
//! any number of threads.

use rayon::prelude::*;

use super::geometry::Stack;
use super::packet::{Roulette, trace};
use super::source::{Launcher, PassiveSource};
use super::tally::{PhotonScore, Tally, TimeBins};
use crate::config::{Config, SourceKind};
use crate::error::{Error, Result};
use crate::rng::{Purpose, Stream};
use crate::units::{nm_to_cm, um_to_cm};

/// Packets per chunk: the unit of parallel work and of progress reports.
pub const CHUNK: u64 = 4096;

/// Everything the transport needs for one point, in internal units.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportSetup {
    pub stack: Stack,
    pub launcher: Launcher,
    pub roulette: Roulette,
    pub bins: TimeBins,
    pub photons: u64,
    pub seed: u64,
}

impl TransportSetup {
    /// The passive transport of `c`; the pump source is not passive.
    pub fn from_config(c: &Config) -> Result<Self> {
        let kind = match c.source.kind {
            SourceKind::Pencil => PassiveSource::Pencil,
            SourceKind::Isotropic => PassiveSource::Isotropic,
            SourceKind::Pump => {
                return Err(Error::Runtime(
                    "the pump source runs in the ASE engine, not in the passive transport".into(),
                ));
            }
        };
        Ok(Self {
            stack: Stack::from_config(c),
            launcher: Launcher {
                kind,
                x: um_to_cm(c.source.x_um),
                y: um_to_cm(c.source.y_um),
                depth: c.source.depth_nm.map(nm_to_cm),
            },
            roulette: Roulette {
                threshold: c.run.roulette_weight,
                survival: c.run.roulette_survival,
            },
            bins: TimeBins {
                max_ps: c.tally.time_max_ps,
                bins: c.tally.time_bins as usize,
            },
            photons: c.source.photons,
            seed: c.run.seed,
        })
    }
}

/// Trace packets `first..first + count` of point `point`.
pub fn run_chunk(setup: &TransportSetup, point: u32, first: u64, count: u64) -> Tally {
    let mut tally = Tally::new(setup.bins);
    for index in first..first + count {
        let mut rng = Stream::new(setup.seed, Purpose::Transport, point, 0, index as u32);
        let mut score = PhotonScore::new();
        let mut packet = setup.launcher.launch(&setup.stack, &mut rng, &mut score);
        trace(
            &setup.stack,
            setup.roulette,
            &mut packet,
            &mut rng,
            &mut score,
            &mut tally,
        );
        tally.add_photon(&score);
    }
    tally
}

/// Trace `setup.photons` packets of sweep point `point` on the current rayon pool;
/// `progress` is called with the packet count of every finished chunk.
pub fn simulate(setup: &TransportSetup, point: u32, progress: &(dyn Fn(u64) + Sync)) -> Tally {
    let chunks = setup.photons.div_ceil(CHUNK);
    let parts: Vec<Tally> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let first = c * CHUNK;
            let count = CHUNK.min(setup.photons - first);
            let t = run_chunk(setup, point, first, count);
            progress(count);
            t
        })
        .collect();
    let mut total = Tally::new(setup.bins);
    for part in &parts {
        total.merge(part);
    }
    total
}
