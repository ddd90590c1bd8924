//! The compute pipelines of the kernels: each kernel's shader module built from
//! `shaders/` (with the shared files) and its pipeline, kept for reuse.

use super::Gpu;
use super::shaders;
use crate::error::{Error, Result};

impl Gpu {
    /// The compute pipeline for the entry point `entry` of kernel file `kernel`, built
    /// on first use.
    pub fn pipeline(&self, kernel: &str, entry: &str) -> Result<wgpu::ComputePipeline> {
        self.pipeline_with(kernel, entry, &[])
    }

    /// As [`Gpu::pipeline`], with the kernel's `override` constants set to `constants`
    /// (name, value).
    pub fn pipeline_with(
        &self,
        kernel: &str,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        let key = format!("{kernel}::{entry}{constants:?}");
        if let Some(p) = self
            .pipelines
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(p);
        }
        let pipeline = self.build_pipeline(kernel, entry, constants)?;
        if let Ok(mut m) = self.pipelines.lock() {
            m.insert(key, pipeline.clone());
        }
        Ok(pipeline)
    }

    fn build_pipeline(
        &self,
        kernel: &str,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(kernel),
                source: wgpu::ShaderSource::Wgsl(shaders::source(kernel).into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("asemc.{entry}")),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    ..Default::default()
                },
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Runtime(format!(
                "GPU: kernel {kernel}::{entry} does not build on {}: {e}",
                self.info.name
            )));
        }
        Ok(pipeline)
    }
}
