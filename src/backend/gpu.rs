//! The GPU backend: the passive transport, and every stage of the ASE engine's time
//! step, as WGSL kernels on a wgpu device (`gpu::stages`); the host's thread pool
//! starts the packets, settles their exchange and keeps the books.

use super::cpu::CpuBackend;
use super::{Backend, run_by_source};
use crate::config::Config;
use crate::error::Result;
use crate::gpu::{Gpu, stages, transport};
use crate::result::PointResult;

pub struct GpuBackend {
    gpu: Gpu,
    /// The host's share of the ASE engine.
    host: CpuBackend,
}

impl GpuBackend {
    pub fn new(gpu: Gpu, host: CpuBackend) -> Self {
        Self { gpu, host }
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn adapter(&self) -> String {
        self.gpu.describe()
    }

    fn run_point(
        &self,
        config: &Config,
        point: u32,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PointResult> {
        // Fault injection for the tests: a real device error at this sweep point.
        if std::env::var("ASEMC_GPU_FAULT_AT_POINT").is_ok_and(|v| v == point.to_string()) {
            self.gpu.provoke_validation_error()?;
        }
        run_by_source(
            config,
            |replicas| {
                replicas
                    .iter()
                    .map(|setup| {
                        self.host
                            .install(|| stages::run(&self.gpu, setup, point, progress))
                    })
                    .collect()
            },
            |setup| transport::simulate(&self.gpu, setup, point, progress),
        )
    }
}
