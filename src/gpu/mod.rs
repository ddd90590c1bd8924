//! The GPU side: finding an adapter, opening a device, and running the WGSL kernels
//! of `shaders/` on it with wgpu.
//!
//! The instance is built from the environment, so `WGPU_BACKEND=vulkan` restricts the
//! backends and `WGPU_ADAPTER_NAME=llvmpipe` picks an adapter by (part of) its name.
//! The device gets the adapter's own limits. Errors of the device (validation, out of
//! memory, a lost device) come back as [`Error::Runtime`] with what was being done.

pub mod ase;
pub mod gain;
pub mod platelets;
pub mod shaders;
pub mod stages;
pub mod transport;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// What `asemc devices` lists about an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

fn summary(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter the instance finds.
pub fn adapters() -> Vec<AdapterSummary> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(|a| summary(&a.get_info()))
        .collect()
}

/// An open device with its queue.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: AdapterSummary,
    pub limits: wgpu::Limits,
    /// Set when the device is lost; checked after every submission.
    lost: Arc<Mutex<Option<String>>>,
    /// Pipelines built so far, by "kernel::entry": a sweep compiles each kernel once.
    pipelines: Mutex<HashMap<String, wgpu::ComputePipeline>>,
}

impl Gpu {
    /// Open the adapter named by `WGPU_ADAPTER_NAME` (a case-insensitive part of its
    /// name), or else the default adapter. `Ok(None)` when there is no adapter at all.
    pub fn open() -> Result<Option<Self>> {
        let instance = instance();
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) => {
                let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
                let names: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
                let wanted = wanted.to_lowercase();
                match all
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                {
                    Some(a) => a,
                    None => {
                        return Err(Error::Usage(format!(
                            "WGPU_ADAPTER_NAME={wanted}: no adapter's name contains it (adapters: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        )));
                    }
                }
            }
            Err(_) => match pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions::default()),
            ) {
                Ok(a) => a,
                Err(_) => return Ok(None),
            },
        };
        let info = summary(&adapter.get_info());
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("asemc"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::Runtime(format!("cannot open the GPU {}: {e}", info.name)))?;
        let lost = Arc::new(Mutex::new(None));
        let flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut l) = flag.lock() {
                *l = Some(format!("{reason:?}: {message}"));
            }
        });
        Ok(Some(Self {
            device,
            queue,
            info,
            limits,
            lost,
            pipelines: Mutex::new(HashMap::new()),
        }))
    }

    /// Whether the adapter is a software one that runs on the CPU (lavapipe).
    pub fn is_software(&self) -> bool {
        self.info.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }

    /// "llvmpipe (LLVM 15…), vulkan, Cpu".
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }

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

    /// `groups` workgroups as an (x, y) dispatch grid within the per-dimension limit
    /// (kernels rebuild the flat index from x + y·(workgroups in x)).
    pub fn grid(&self, groups: u32) -> [u32; 2] {
        let max = self.limits.max_compute_workgroups_per_dimension;
        [groups.min(max), groups.div_ceil(max)]
    }

    /// A storage buffer of `size` bytes that can be copied out.
    pub fn storage(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding `value`.
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: std::mem::size_of::<T>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue
            .write_buffer(&buffer, 0, bytemuck::bytes_of(value));
        buffer
    }

    /// A storage buffer the kernels only read, of `size` bytes, filled with
    /// [`Gpu::write`].
    pub fn input(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Copy `bytes` to the start of `buffer` (before the next dispatch).
    pub fn write(&self, buffer: &wgpu::Buffer, bytes: &[u8]) {
        self.queue.write_buffer(buffer, 0, bytes);
    }

    /// A 2-D texture a kernel reads with `textureLoad`, written with
    /// [`Gpu::write_rows`]: `rows` rows of `width` texels.
    pub fn texture(
        &self,
        label: &str,
        format: wgpu::TextureFormat,
        width: u32,
        rows: u32,
    ) -> (wgpu::Texture, wgpu::TextureView) {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width,
                height: rows.max(1),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        (texture, view)
    }

    /// Copy `bytes` to the start of `texture` (before the next dispatch), row after
    /// row of the texture's width: its whole rows, then what is left in part of the
    /// next.
    pub fn write_rows(&self, texture: &wgpu::Texture, bytes: &[u8]) {
        let width = texture.width() as usize;
        let texel = texture
            .format()
            .block_copy_size(None)
            .expect("a texture of whole texels") as usize;
        let row = width * texel;
        let whole = bytes.len() / row;
        let rest = (bytes.len() % row) / texel;
        let write = |y: usize, data: &[u8], width: usize, height: usize| {
            self.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: y as u32,
                        z: 0,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                data,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row as u32),
                    rows_per_image: Some(height as u32),
                },
                wgpu::Extent3d {
                    width: width as u32,
                    height: height as u32,
                    depth_or_array_layers: 1,
                },
            );
        };
        if whole > 0 {
            write(0, &bytes[..whole * row], width, whole);
        }
        if rest > 0 {
            write(
                whole,
                &bytes[whole * row..whole * row + rest * texel],
                rest,
                1,
            );
        }
    }

    /// Run `workgroups` workgroups of `pipeline` with `buffers` bound to group 0 in
    /// order, then copy `size` bytes of `output` back. `what` names the work for error
    /// messages. Errors of the device (validation, out of memory, lost) are returned.
    pub fn dispatch_and_read(
        &self,
        what: &str,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        workgroups: u32,
        output: &wgpu::Buffer,
        size: u64,
    ) -> Result<Vec<u8>> {
        let readback = self.readback("readback", size);
        self.dispatch_then_read(
            what,
            pipeline,
            buffers,
            [workgroups, 1],
            &[(output, &readback, size)],
            |bytes| bytes[0].to_vec(),
        )
    }

    /// A buffer the host maps to read results from, of `size` bytes.
    pub fn readback(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Run `workgroups` (x, y) workgroups of `pipeline` with `buffers` bound to group 0
    /// in order, copy `size` bytes from each `(output, readback, size)` of `copies`,
    /// and hand the mapped bytes to `read`. The readback buffers (made with
    /// [`Gpu::readback`]) can be reused from dispatch to dispatch. `what` names the
    /// work for error messages; errors of the device (validation, out of memory,
    /// lost) are returned.
    pub fn dispatch_then_read<R>(
        &self,
        what: &str,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        workgroups: [u32; 2],
        copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        let dispatch = Dispatch {
            pipeline,
            buffers,
            textures: &[],
            workgroups,
        };
        self.runs_then_read(what, &[&dispatch], copies, read)
    }

    /// [`Gpu::dispatch_then_read`] of a [`Dispatch`] (with textures bound).
    pub fn run_then_read<R>(
        &self,
        what: &str,
        dispatch: &Dispatch,
        copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        self.runs_then_read(what, &[dispatch], copies, read)
    }

    /// Copy and read back as [`Gpu::dispatch_then_read`] does, without a dispatch
    /// (after every one submitted so far).
    pub fn read<R>(
        &self,
        what: &str,
        copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        self.runs_then_read(what, &[], copies, read)
    }

    /// [`Gpu::run_then_read`] of several dispatches (or none), one after another in
    /// one submission (each sees what the ones before it wrote).
    pub fn runs_then_read<R>(
        &self,
        what: &str,
        dispatches: &[&Dispatch],
        copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        let regions: Vec<Region> = copies
            .iter()
            .map(|&(from, to, size)| Region {
                from,
                from_offset: 0,
                to,
                to_offset: 0,
                size,
            })
            .collect();
        let mapped: Vec<(&wgpu::Buffer, u64)> =
            copies.iter().map(|&(_, to, size)| (to, size)).collect();
        self.submit_copies_then_read(what, dispatches, &regions, &mapped, read)
    }

    /// Copy the byte ranges `ranges` (offset, size) of `from` one after another into
    /// `readback` (made with [`Gpu::readback`]), after every dispatch submitted so far,
    /// and hand them to `read` as one slice.
    pub fn read_ranges<R>(
        &self,
        what: &str,
        from: &wgpu::Buffer,
        readback: &wgpu::Buffer,
        ranges: &[(u64, u64)],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        let mut to_offset = 0;
        let regions: Vec<Region> = ranges
            .iter()
            .map(|&(from_offset, size)| {
                let r = Region {
                    from,
                    from_offset,
                    to: readback,
                    to_offset,
                    size,
                };
                to_offset += size;
                r
            })
            .collect();
        self.submit_copies_then_read(what, &[], &regions, &[(readback, to_offset)], |b| {
            read(b[0])
        })
    }

    /// A dispatch (or none), then the copies `regions`; the first `size` bytes of
    /// each of `mapped` (readback buffers) are handed to `read` once mapped.
    fn submit_copies_then_read<R>(
        &self,
        what: &str,
        dispatches: &[&Dispatch],
        regions: &[Region],
        mapped: &[(&wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(what) });
        for d in dispatches {
            self.encode_dispatch(&mut encoder, what, d);
        }
        for r in regions {
            if r.size > 0 {
                encoder.copy_buffer_to_buffer(r.from, r.from_offset, r.to, r.to_offset, r.size);
            }
        }
        self.queue.submit([encoder.finish()]);
        for (readback, size) in mapped {
            if *size > 0 {
                readback
                    .slice(..*size)
                    .map_async(wgpu::MapMode::Read, |_| {});
            }
        }
        let polled = self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        });
        let oom = pollster::block_on(memory.pop());
        let invalid = pollster::block_on(validation.pop());
        let failure = self
            .lost
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .map(|m| format!("the device was lost ({m})"))
            .or(oom.map(|e| format!("out of GPU memory ({e})")))
            .or(invalid.map(|e| format!("validation error ({e})")))
            .or(polled
                .err()
                .map(|e| format!("waiting for the device failed ({e})")));
        if let Some(f) = failure {
            // wgpu's messages span lines; errors here are one line.
            let f = f.split_whitespace().collect::<Vec<_>>().join(" ");
            return Err(Error::Runtime(format!(
                "GPU {}: {what}: {f}",
                self.info.name
            )));
        }
        let mut views = Vec::with_capacity(mapped.len());
        for (readback, size) in mapped {
            if *size == 0 {
                continue;
            }
            views.push(readback.slice(..*size).get_mapped_range().map_err(|e| {
                Error::Runtime(format!("GPU {}: {what}: reading back: {e}", self.info.name))
            })?);
        }
        let mut slices: Vec<&[u8]> = Vec::with_capacity(mapped.len());
        let mut views_left = views.iter();
        for (_, size) in mapped {
            slices.push(if *size == 0 {
                &[]
            } else {
                views_left.next().expect("one view per mapped buffer")
            });
        }
        let result = read(&slices);
        drop(slices);
        drop(views);
        for (readback, size) in mapped {
            if *size > 0 {
                readback.unmap();
            }
        }
        Ok(result)
    }

    /// Record dispatch `d`.
    fn encode_dispatch(&self, encoder: &mut wgpu::CommandEncoder, what: &str, d: &Dispatch) {
        let layout = d.pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = d
            .buffers
            .iter()
            .map(|b| b.as_entire_binding())
            .chain(
                d.textures
                    .iter()
                    .map(|t| wgpu::BindingResource::TextureView(t)),
            )
            .enumerate()
            .map(|(i, resource)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource,
            })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(what),
            layout: &layout,
            entries: &entries,
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(what),
            timestamp_writes: None,
        });
        pass.set_pipeline(d.pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(d.workgroups[0], d.workgroups[1], 1);
    }
}

/// A copy of `size` bytes from `from` at `from_offset` to `to` at `to_offset`.
struct Region<'a> {
    from: &'a wgpu::Buffer,
    from_offset: u64,
    to: &'a wgpu::Buffer,
    to_offset: u64,
    size: u64,
}

/// A dispatch of `pipeline` over `workgroups` (x, y) with `buffers`, then `textures`,
/// bound to group 0 in order.
pub struct Dispatch<'a> {
    pub pipeline: &'a wgpu::ComputePipeline,
    pub buffers: &'a [&'a wgpu::Buffer],
    pub textures: &'a [&'a wgpu::TextureView],
    pub workgroups: [u32; 2],
}

impl Gpu {
    /// Submit a dispatch the device must reject (a bind group missing a binding), and
    /// return the error it reports: the path every device error of a run takes. Used
    /// by the fault-injection hook of the GPU backend (`ASEMC_GPU_FAULT_AT_POINT`).
    pub fn provoke_validation_error(&self) -> Result<()> {
        let pipeline = self.pipeline("rng_check", "rng_check")?;
        let out = self.storage("fault", 4);
        self.dispatch_and_read(
            "a deliberately invalid dispatch",
            &pipeline,
            &[&out],
            1,
            &out,
            4,
        )
        .map(|_| ())
    }
}

/// The first `per_stream` raw numbers of Philox streams `0..streams` computed by the
/// WGSL generator: the check that it equals [`crate::rng`].
pub fn philox_numbers(
    gpu: &Gpu,
    seed: u64,
    purpose: crate::rng::Purpose,
    point: u32,
    step: u32,
    streams: u32,
    per_stream: u32,
) -> Result<Vec<u32>> {
    #[repr(C)]
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    struct RngCheck {
        seed: [u32; 2],
        purpose: u32,
        point: u32,
        step: u32,
        streams: u32,
        per_stream: u32,
        _pad: u32,
    }
    let params = gpu.uniform(
        "rng_check params",
        &RngCheck {
            seed: [seed as u32, (seed >> 32) as u32],
            purpose: purpose as u32,
            point,
            step,
            streams,
            per_stream,
            _pad: 0,
        },
    );
    let size = u64::from(streams) * u64::from(per_stream) * 4;
    let out = gpu.storage("rng_check out", size);
    let pipeline = gpu.pipeline("rng_check", "rng_check")?;
    let bytes = gpu.dispatch_and_read(
        "rng_check",
        &pipeline,
        &[&params, &out],
        streams.div_ceil(64),
        &out,
        size,
    )?;
    Ok(bytemuck::cast_slice(&bytes).to_vec())
}

/// Photon steps per second of the bare random walk of `shaders/random_walk.wgsl`
/// (`invocations` walkers of `steps` steps each, `walkers` times over): the device's
/// practical ceiling, for the benchmarks.
pub fn random_walk_rate(gpu: &Gpu, invocations: u32, walkers: u32, steps: u32) -> Result<f64> {
    #[repr(C)]
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    struct WalkParams {
        seed_lo: u32,
        seed_hi: u32,
        steps: u32,
        walkers: u32,
    }
    let params = gpu.uniform(
        "random_walk params",
        &WalkParams {
            seed_lo: 1,
            seed_hi: 0,
            steps,
            walkers,
        },
    );
    let size = u64::from(invocations) * 4;
    let out = gpu.storage("random_walk out", size);
    let pipeline = gpu.pipeline("random_walk", "random_walk")?;
    let start = std::time::Instant::now();
    let bytes = gpu.dispatch_and_read(
        "random_walk",
        &pipeline,
        &[&params, &out],
        invocations.div_ceil(64),
        &out,
        size,
    )?;
    let elapsed = start.elapsed().as_secs_f64();
    let sum: f32 = bytemuck::cast_slice::<u8, f32>(&bytes).iter().sum();
    if !sum.is_finite() {
        return Err(Error::Runtime("random_walk: non-finite result".into()));
    }
    Ok(f64::from(invocations) * f64::from(walkers) * f64::from(steps) / elapsed)
}
