//! The GPU backend: the passive transport as a WGSL kernel on a wgpu device. The ASE
//! engine (pump source) runs on the CPU backend in this version; `select` routes it
//! there.

use std::time::Instant;

use super::Backend;
use super::cpu::transport_result;
use crate::config::{Config, SourceKind};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, transport};
use crate::result::PointResult;
use crate::transport::TransportSetup;

pub struct GpuBackend {
    gpu: Gpu,
}

impl GpuBackend {
    pub fn new(gpu: Gpu) -> Self {
        Self { gpu }
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
        if config.source.kind == SourceKind::Pump {
            return Err(Error::Runtime(
                "the GPU backend runs the passive transport; the ASE engine (source.kind = \"pump\") runs on the CPU backend".into(),
            ));
        }
        // Fault injection for the tests: a real device error at this sweep point.
        if std::env::var("ASEMC_GPU_FAULT_AT_POINT").is_ok_and(|v| v == point.to_string()) {
            self.gpu.provoke_validation_error()?;
        }
        let start = Instant::now();
        let setup = TransportSetup::from_config(config)?;
        let tally = transport::simulate(&self.gpu, &setup, point, progress)?;
        Ok(transport_result(&tally, start.elapsed().as_secs_f64()))
    }
}
