//! Choosing where the engine runs. Every backend turns one point's config into a
//! [`PointResult`]; the runner and the output layer see nothing else of it.

mod cpu;
mod gpu;
mod replicas;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;

use std::time::Instant;

use crate::ase::{AseOutput, AseSetup};
use crate::config::{Config, SourceKind};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::result::PointResult;
use crate::transport::{Tally, TransportSetup};

/// The `--backend` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when one exists, else the CPU.
    Auto,
    /// The CPU reference (rayon).
    Cpu,
    /// The GPU (wgpu compute shaders).
    Gpu,
}

/// A place to run sweep points.
pub trait Backend {
    /// `"cpu"` or `"gpu"`.
    fn name(&self) -> &'static str;
    /// The device it runs on, for logs and output files.
    fn adapter(&self) -> String;
    /// Run sweep point `point` with configuration `config`; `progress` is called with
    /// the work units (see [`work_units`]) finished since its last call.
    fn run_point(
        &self,
        config: &Config,
        point: u32,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PointResult>;
}

/// Run a point of `config` as its source asks, timed from here: the ASE engine's
/// replicas by `run_ase` (given a batch of replicas' setups, it returns their outputs
/// in order) for the pump, the passive transport by `run_transport` for the others.
fn run_by_source(
    config: &Config,
    run_ase: impl Fn(&[AseSetup]) -> Result<Vec<AseOutput>>,
    run_transport: impl FnOnce(&TransportSetup) -> Result<Tally>,
) -> Result<PointResult> {
    let start = Instant::now();
    if config.source.kind == SourceKind::Pump {
        let setup = AseSetup::from_config(config)?;
        return replicas::run(config, &setup, run_ase, start);
    }
    let setup = TransportSetup::from_config(config)?;
    let tally = run_transport(&setup)?;
    Ok(cpu::transport_result(&tally, start.elapsed().as_secs_f64()))
}

/// The backend for `choice`, with a line for the log saying what was chosen and why.
/// `threads` sizes the CPU backend's pool, or the GPU backend's host pool (the ASE
/// engine's books: starting the packets and settling their exchange).
pub fn select(choice: BackendChoice, threads: Option<usize>) -> Result<(Box<dyn Backend>, String)> {
    let cpu = |why: &str| -> Result<(Box<dyn Backend>, String)> {
        let cpu = CpuBackend::new(threads)?;
        let line = format!("{why}cpu ({})", cpu.adapter());
        Ok((Box::new(cpu), line))
    };
    let gpu = |gpu: Gpu, why: String| -> Result<(Box<dyn Backend>, String)> {
        let host = CpuBackend::new(threads)?;
        let line = format!("{why} (host: {})", host.adapter());
        Ok((Box::new(GpuBackend::new(gpu, host)), line))
    };
    match choice {
        BackendChoice::Cpu => cpu("backend "),
        BackendChoice::Auto => match Gpu::open()? {
            // A software adapter (lavapipe) runs the transport slower than the CPU
            // backend on the same cores; --backend gpu still uses it.
            Some(g) if g.is_software() => cpu(&format!(
                "backend auto: the only adapter, {}, runs on the CPU and is slower than the CPU backend (--backend gpu uses it); using ",
                g.describe()
            )),
            Some(g) => {
                let why = format!("backend auto: using gpu {}", g.describe());
                gpu(g, why)
            }
            None => cpu("backend auto: no GPU adapter found; using "),
        },
        BackendChoice::Gpu => match Gpu::open()? {
            Some(g) => {
                let why = format!("backend gpu {}", g.describe());
                gpu(g, why)
            }
            None => Err(Error::Usage(
                "--backend gpu: wgpu finds no GPU adapter (asemc devices lists them; on Debian, mesa-vulkan-drivers provides lavapipe); use --backend cpu or auto".into(),
            )),
        },
    }
}

/// The work units of one point, for progress bars: photon packets for the passive
/// sources, time steps for the pump source.
pub fn work_units(config: &Config) -> u64 {
    match config.source.kind {
        crate::config::SourceKind::Pump => config.run.steps() * u64::from(config.run.replicas),
        _ => config.source.photons,
    }
}
