//! Choosing where the engine runs. Every backend turns one point's config into a
//! [`PointResult`]; the runner and the output layer see nothing else of it.

mod cpu;
mod gpu;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::result::PointResult;

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
        crate::config::SourceKind::Pump => config.run.steps(),
        _ => config.source.photons,
    }
}
