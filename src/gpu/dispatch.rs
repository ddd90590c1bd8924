//! Running kernels and reading back: dispatches of pipelines with their buffers and
//! textures bound, in one submission, then copies of their results mapped for the host.
//! Errors of the device (validation, out of memory, a lost device) come back as
//! [`Error::Runtime`] with what was being done.

use super::Gpu;
use crate::error::{Error, Result};

impl Gpu {
    /// `groups` workgroups as an (x, y) dispatch grid within the per-dimension limit
    /// (kernels rebuild the flat index from x + y·(workgroups in x)).
    pub fn grid(&self, groups: u32) -> [u32; 2] {
        let max = self.limits.max_compute_workgroups_per_dimension;
        [groups.min(max), groups.div_ceil(max)]
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

    /// Read back two buffers of `size` bytes each, given as (buffer, read-back copy), as
    /// values of `A` and of `B`, after every dispatch submitted so far.
    pub fn read_pair<A: bytemuck::Pod, B: bytemuck::Pod>(
        &self,
        what: &str,
        a: (&wgpu::Buffer, &wgpu::Buffer),
        b: (&wgpu::Buffer, &wgpu::Buffer),
        size: u64,
    ) -> Result<(Vec<A>, Vec<B>)> {
        self.read(what, &[(a.0, a.1, size), (b.0, b.1, size)], |bytes| {
            (
                bytemuck::cast_slice(bytes[0]).to_vec(),
                bytemuck::cast_slice(bytes[1]).to_vec(),
            )
        })
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
