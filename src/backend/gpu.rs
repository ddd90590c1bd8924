//! The GPU backend: the passive transport, and the photon transport and cell gain
//! spectra of the ASE engine, as WGSL kernels on a wgpu device. The ASE engine's
//! platelets (decay, spontaneous emission, the booking of the exchange) run on the
//! host's thread pool.

use std::time::Instant;

use super::Backend;
use super::cpu::{CpuBackend, transport_result};
use crate::ase::{self, AseSetup};
use crate::config::{Config, SourceKind};
use crate::error::Result;
use crate::gpu::ase::GpuTransport;
use crate::gpu::{Gpu, transport};
use crate::result::PointResult;
use crate::transport::TransportSetup;

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
        let start = Instant::now();
        if config.source.kind == SourceKind::Pump {
            let setup = AseSetup::from_config(config)?;
            let mut transport = GpuTransport::new(&self.gpu, &setup)?;
            let out = self
                .host
                .install(|| ase::run_with(&setup, point, &mut transport, progress))?;
            if transport.overflowed > 0 {
                eprintln!(
                    "asemc: point {point}: {} packet steps met more than {} cells (or took more segments than the adapter's loops run) and were followed on the CPU",
                    transport.overflowed,
                    crate::gpu::ase::ENTRIES
                );
            }
            if transport.tallied_on_host > 0 {
                eprintln!(
                    "asemc: point {point}: {} dispatches had a photon count beyond the range of the device's tallies and were tallied on the host",
                    transport.tallied_on_host
                );
            }
            return Ok(ase::report::point_result(
                &setup,
                &out,
                start.elapsed().as_secs_f64(),
            ));
        }
        let setup = TransportSetup::from_config(config)?;
        let tally = transport::simulate(&self.gpu, &setup, point, progress)?;
        Ok(transport_result(&tally, start.elapsed().as_secs_f64()))
    }
}
