//! Choosing where the engine runs. Every backend turns one point's config into a
//! [`PointResult`]; the runner and the output layer see nothing else of it.

mod cpu;

pub use cpu::CpuBackend;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::result::PointResult;

/// The `--backend` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// The GPU when an adapter exists, else the CPU.
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

/// The backend for `choice`, with a line for the log saying what was chosen and why.
pub fn select(choice: BackendChoice, threads: Option<usize>) -> Result<(Box<dyn Backend>, String)> {
    match choice {
        BackendChoice::Cpu => {
            let cpu = CpuBackend::new(threads)?;
            let why = format!("backend cpu ({})", cpu.adapter());
            Ok((Box::new(cpu), why))
        }
        BackendChoice::Auto => {
            let cpu = CpuBackend::new(threads)?;
            let why = format!(
                "backend auto: this build has no GPU backend, using cpu ({})",
                cpu.adapter()
            );
            Ok((Box::new(cpu), why))
        }
        BackendChoice::Gpu => Err(Error::Usage(
            "--backend gpu: this build of asemc has no GPU backend yet; use --backend cpu or auto"
                .into(),
        )),
    }
}

/// The work units of one point, for progress bars: photon packets for the passive
/// sources, time steps for the pump source.
pub fn work_units(config: &Config) -> u64 {
    match config.source.kind {
        crate::config::SourceKind::Pump => config.run.steps(),
        _ => config.source.photons,
    }
}
