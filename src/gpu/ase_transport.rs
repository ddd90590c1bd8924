//! Stage 3 of the ASE engine on the GPU, the host's side of `shaders/ase_transport.wgsl`:
//! the kernel moves every packet of a time step, one invocation each, with the device's
//! gain spectra ([`GpuGain`]); the tallies kernel ([`super::tallies`]) sums what the
//! packets gained, lost and took out of the film. The host continues the packets and
//! collects their exchange with the cells in packet order, as it does the CPU
//! transport's chunks, for the settling of the exchange.
//!
//! A packet meets at most [`ENTRIES`] film cells in a step on the GPU; one that meets
//! more (a long step through a fine grid), or takes more path segments than a software
//! adapter's loops allow ([`SOFTWARE_LOOP_PASSES`]: a long step through a strongly
//! scattering layer), is followed on the CPU from its state at the step's start, with
//! the same random stream and the device's gain spectra.

pub use super::ase_packets::{ENTRIES, Entry, GpuPacket, MovedPacket, PER_PACKET};

use super::ase_packets::{PACKETS_PER_ROW, continue_batch, follow_on_cpu};
use super::gain::{self, GpuGain};
use super::platelets;
/// The structs this kernel shares with the host (`AseParams`), defined
/// once in `gpu::shared`.
pub use super::shared::AseParams;
use super::tallies::{TALLY_RUN, Tallies, add_tallies, tally_bytes};
use super::transport::GpuSlab;
use super::{Dispatch, Gpu};
use crate::ase::photons::{AsePacket, Exchange, StepView};
use crate::ase::tally::{ExitTally, Ledger};
use crate::ase::{AseSetup, Span};
use crate::error::{Error, Result};
use crate::transport::geometry::{SUBSTRATE, Stack};

/// Segments after which a packet is stopped for the step, as on the CPU.
const MAX_SEGMENTS_PER_STEP: u32 = 1_000_000;
/// Segments a packet may take in a step on a software adapter such as lavapipe, which
/// runs an invocation's loops 65535 times in all and then leaves them without a word
/// (a segment can count twice); more are left to the host.
pub const SOFTWARE_LOOP_PASSES: u32 = super::shared::LOOP_PASSES;
/// Threads per workgroup of the kernels.
pub(super) use super::shared::WORKGROUP;
/// Most packets in one dispatch (a few segments each: well under a second on
/// lavapipe).
const MAX_DISPATCH: u32 = 1 << 18;

/// The most packets one dispatch holds on a device with `limits`.
pub fn max_dispatch(limits: &wgpu::Limits) -> u32 {
    let entries = (ENTRIES * std::mem::size_of::<Entry>()) as u64;
    (limits.max_storage_buffer_binding_size / entries).min(u64::from(MAX_DISPATCH)) as u32
}

/// Device memory the ASE transport of `setup` uses at most on `gpu`, bytes: one
/// dispatch's packets and entries ([`PER_PACKET`]), the cells' excitons, their gain
/// spectra ([`gain::memory_needed`]) and the platelets ([`platelets::memory_needed`]).
pub fn memory_needed(gpu: &Gpu, setup: &AseSetup) -> u64 {
    let cells = setup.grid.cells() as u64;
    let platelets = platelets::memory_needed(setup);
    u64::from(max_dispatch(&gpu.limits)) * PER_PACKET
        + 2 * tally_bytes(setup)
        + 4 * cells
        + gain::memory_needed(setup)
        + platelets
}

impl AseParams {
    fn new(gpu: &Gpu, setup: &AseSetup) -> Self {
        let stack = &setup.stack;
        let size = setup.grid.size();
        let lo = setup.grid.corner([0, 0, 0]);
        Self {
            slab: GpuSlab::of_stack(stack),
            coupled: u32::from(setup.coupled),
            nx: setup.grid.nx as u32,
            ny: setup.grid.ny as u32,
            nz: setup.grid.nz as u32,
            bins: setup.spectrum.bins as u32,
            seed_lo: setup.seed as u32,
            seed_hi: (setup.seed >> 32) as u32,
            max_segments: MAX_SEGMENTS_PER_STEP,
            cell_x: size[0] as f32,
            cell_y: size[1] as f32,
            cell_z: size[2] as f32,
            detector_cos: setup.detector_cos as f32,
            roulette_threshold: setup.roulette.threshold as f32,
            roulette_survival: setup.roulette.survival as f32,
            cell_lo_x: lo[0] as f32,
            cell_lo_y: lo[1] as f32,
            cell_lo_z: lo[2] as f32,
            guide_cos: guide_cos(stack) as f32,
            passes: if gpu.is_software() {
                SOFTWARE_LOOP_PASSES
            } else {
                u32::MAX
            },
            ..Self::default()
        }
    }
}

/// The largest |u_z| of a film ray that both faces reflect totally
/// (`Stack::film_guides` holds for |u_z| up to it); 0 when a face never does.
fn guide_cos(stack: &Stack) -> f64 {
    let n1 = stack.film().n;
    let below = stack.layers.get(SUBSTRATE).map_or(stack.n_below, |s| s.n);
    [stack.n_cover, below]
        .into_iter()
        .map(|n2| {
            if n2 < n1 {
                (1.0 - (n2 / n1).powi(2)).sqrt()
            } else {
                0.0
            }
        })
        .fold(1.0, f64::min)
}

/// Device buffers for up to `capacity` packets per dispatch, and their read-back
/// copies (kept from step to step: new mappings cost more than the kernel).
struct Buffers {
    capacity: u32,
    /// The packets as uploaded: `PACKETS_PER_ROW` a row, three texels each.
    packets_in: wgpu::Texture,
    packets_in_view: wgpu::TextureView,
    packets: wgpu::Buffer,
    entries: wgpu::Buffer,
    packets_back: wgpu::Buffer,
    entries_back: wgpu::Buffer,
}

/// The ASE transport of one sweep point on a GPU (the point and step come with each
/// call).
pub struct GpuTransport<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    params: AseParams,
    tallies: Tallies,
    cell_excitons: wgpu::Buffer,
    buffers: Option<Buffers>,
    max_dispatch: u32,
    /// The batch's packets as uploaded (kept to reuse the allocation).
    state: Vec<GpuPacket>,
    /// Packets followed on the CPU because they met more cells than the GPU holds.
    pub overflowed: u64,
    /// Dispatches whose tallies the host summed in place of the device, a term being
    /// beyond the device's fixed point.
    pub tallied_on_host: u64,
}

impl<'g> GpuTransport<'g> {
    /// Set up the transport of `setup` on `gpu`.
    pub fn new(gpu: &'g Gpu, setup: &AseSetup) -> Result<Self> {
        if !setup.stack.half_length.is_finite() || !setup.stack.half_width.is_finite() {
            return Err(Error::Runtime(
                "the GPU ASE transport needs a film of finite length and width".into(),
            ));
        }
        let cells = setup.grid.cells() as u64;
        let scatters = setup.stack.layers.iter().any(|l| l.mu_s > 0.0);
        Ok(Self {
            gpu,
            pipeline: gpu.pipeline_with(
                "ase_transport",
                "ase_transport",
                &[("SCATTERING", f64::from(u8::from(scatters)))],
            )?,
            params: AseParams::new(gpu, setup),
            tallies: Tallies {
                pipeline: gpu.pipeline("tallies", "tallies")?,
                totals: gpu.storage("ase tallies", tally_bytes(setup)),
                back: gpu.readback("ase tallies read-back", tally_bytes(setup)),
                unit: None,
            },
            cell_excitons: gpu.input("ase cell excitons", 4 * cells),
            buffers: None,
            max_dispatch: max_dispatch(&gpu.limits),
            state: Vec::new(),
            overflowed: 0,
            tallied_on_host: 0,
        })
    }

    /// The transport with a unit of `photons` (a power of two) for the device's
    /// tallies of every dispatch. With a tiny one every term is out of its range,
    /// and the host sums every dispatch: the sums to test the device's against, taken
    /// the same way as it takes a term too large.
    pub fn with_tally_unit(mut self, photons: f64) -> Self {
        self.tallies.unit = Some(photons);
        self
    }

    /// Make the buffers hold `count` packets, growing them (doubling) when the step
    /// has more than ever.
    fn buffers(&mut self, count: u32) {
        let big_enough = self.buffers.as_ref().is_some_and(|b| b.capacity >= count);
        if !big_enough {
            let capacity = count.next_power_of_two().clamp(1024, self.max_dispatch);
            let size = |bytes: usize| u64::from(capacity) * bytes as u64;
            let packets = size(std::mem::size_of::<MovedPacket>());
            let entries = size(ENTRIES * std::mem::size_of::<Entry>());
            let gpu = self.gpu;
            let (packets_in, packets_in_view) = gpu.texture(
                "ase packets in",
                wgpu::TextureFormat::Rgba32Uint,
                3 * PACKETS_PER_ROW,
                capacity.div_ceil(PACKETS_PER_ROW),
            );
            self.buffers = Some(Buffers {
                capacity,
                packets_in_view,
                packets_in,
                packets: gpu.storage("ase packets", packets),
                entries: gpu.storage("ase exchange entries", entries),
                packets_back: gpu.readback("ase packets read-back", packets),
                entries_back: gpu.readback("ase exchange entries read-back", entries),
            });
        }
    }
}

impl GpuTransport<'_> {
    /// Advance `packets` (the step's list, in order) to the end of `span` with the
    /// spectra of `gain`, adding what left to `tally` and the photons exchanged, lost
    /// and gained to `ledger`, as `cpu::ase_transport::advance_all` does. Returns the
    /// exchange with the cells (each packet's entries together, one per cell, in the
    /// order it met them) and the path segments taken. `view` gives the cells'
    /// excitons; its spectra are not read.
    pub fn advance_all(
        &mut self,
        view: &StepView,
        gain: &GpuGain,
        packets: &mut [AsePacket],
        span: Span,
        tally: &mut ExitTally,
        ledger: &mut Ledger,
    ) -> Result<(Vec<Exchange>, u64)> {
        let Span {
            point,
            step,
            t0,
            t1,
        } = span;
        let setup = view.setup;
        let bins = setup.spectrum.bins as u32;
        let excitons: Vec<f32> = view.cell_excitons.iter().map(|&x| x as f32).collect();
        self.gpu
            .write(&self.cell_excitons, bytemuck::cast_slice(&excitons));
        // Packets that met more cells than they have entries for, by index.
        let mut overflow = Vec::new();
        self.params.point = point;
        self.params.step = step;
        self.params.t_end = (t1 - t0) as f32;
        let mut exchange = Vec::new();
        let mut segments = 0u64;
        for (batch, chunk) in packets.chunks_mut(self.max_dispatch as usize).enumerate() {
            let first = batch * self.max_dispatch as usize;
            let (batch_segments, on_host) = self.advance_batch(
                gain,
                chunk,
                (first, bins),
                span,
                tally,
                ledger,
                &mut overflow,
                &mut exchange,
            )?;
            segments += batch_segments;
            self.tallied_on_host += u64::from(on_host);
        }
        if !overflow.is_empty() {
            // Followed again on the CPU from the step's start, with the same stream and
            // the device's gain.
            self.overflowed += overflow.len() as u64;
            segments += follow_on_cpu(
                view,
                gain,
                packets,
                overflow,
                span,
                tally,
                ledger,
                &mut exchange,
            )?;
        }
        Ok((exchange, segments))
    }

    /// Move `chunk`, the step's packets from the `first`-th on (in `bins` bins), in one
    /// dispatch with the tallies' after it, and continue them from what the device
    /// returns ([`continue_batch`]), adding to `tally` and `ledger` the device's sums
    /// (or the host's, a term being beyond the device's range). Returns the path
    /// segments and whether the host summed the tallies.
    #[allow(clippy::too_many_arguments)]
    fn advance_batch(
        &mut self,
        gain: &GpuGain,
        chunk: &mut [AsePacket],
        (first, bins): (usize, u32),
        span: Span,
        tally: &mut ExitTally,
        ledger: &mut Ledger,
        overflow: &mut Vec<usize>,
        exchange: &mut Vec<Exchange>,
    ) -> Result<(u64, bool)> {
        let Span { step, t0, .. } = span;
        let count = chunk.len() as u32;
        let (uniform, tally_uniform) = self.upload_batch(chunk, t0, bins, tally);
        let b = self.buffers.as_ref().expect("made above");
        let t = &self.tallies;
        let gpu = self.gpu;
        let size = |bytes: usize| u64::from(count) * bytes as u64;
        let textures = [&b.packets_in_view];
        let transport = Dispatch {
            pipeline: &self.pipeline,
            buffers: &[
                &uniform,
                &b.packets,
                &b.entries,
                &gain.stim,
                &gain.abs,
                &self.cell_excitons,
            ],
            textures: &textures,
            workgroups: gpu.grid(count.div_ceil(WORKGROUP)),
        };
        let mut copies = vec![
            (
                &b.packets,
                &b.packets_back,
                size(std::mem::size_of::<MovedPacket>()),
            ),
            (
                &b.entries,
                &b.entries_back,
                size(ENTRIES * std::mem::size_of::<Entry>()),
            ),
        ];
        let (tally_params, scale) = &tally_uniform;
        let tally_buffers = [tally_params, &b.packets, &b.entries, &t.totals];
        let tallies = Dispatch {
            pipeline: &t.pipeline,
            buffers: &tally_buffers,
            textures: &textures,
            workgroups: gpu.grid(count.div_ceil(TALLY_RUN * WORKGROUP)),
        };
        let bytes = t.totals.size();
        gpu.write(&t.totals, &vec![0; bytes as usize]);
        copies.push((&t.totals, &t.back, bytes));
        let dispatches = [&transport, &tallies];
        let scale = *scale;
        let booked = gpu.runs_then_read(
            &format!("ASE transport, step {step}, packets {first}…"),
            &dispatches,
            &copies,
            |bytes| -> std::result::Result<(u64, bool), u32> {
                let moved: &[MovedPacket] = bytemuck::cast_slice(bytes[0]);
                let entries: &[Entry] = bytemuck::cast_slice(bytes[1]);
                continue_batch(chunk, (moved, entries), first, t0, bins, overflow, exchange)?;
                // The device's sums, unless a term was beyond their range.
                let words: &[u32] = bytemuck::cast_slice(bytes[2]);
                Ok(add_tallies(
                    words, scale, chunk, moved, entries, ledger, tally,
                ))
            },
        )?;
        booked.map_err(|fate| {
            Error::Runtime(format!(
                "GPU {}: ASE transport, step {step}: a packet came back with fate {fate}",
                gpu.info.name
            ))
        })
    }

    /// Upload `chunk`, a batch of the step's packets (their times counted from `t0`),
    /// to the packets' texture, the buffers made to hold them, and make the uniforms of
    /// the transport's parameters and of the tallies' (in `bins` bins and `tally`'s time
    /// bins), the latter with its units a photon.
    fn upload_batch(
        &mut self,
        chunk: &[AsePacket],
        t0: f64,
        bins: u32,
        tally: &ExitTally,
    ) -> (wgpu::Buffer, (wgpu::Buffer, f64)) {
        let count = chunk.len() as u32;
        self.state.clear();
        self.state.extend(chunk.iter().map(|p| GpuPacket {
            pos: p.pos.map(|v| v as f32),
            dir: p.dir.map(|v| v as f32),
            weight: p.weight as f32,
            birth_weight: p.birth_weight as f32,
            time_ps: (p.time_ps - t0) as f32,
            bin: p.bin,
            layer: p.layer as u32,
            id: p.id,
        }));
        let mut params = self.params;
        params.count = count;
        let uniform = self.gpu.uniform("ase params", &params);
        // The tallies' parameters, where the device sums them.
        let tally_uniform = self.tallies.uniform(self.gpu, chunk, bins, t0, tally);
        self.buffers(count);
        let b = self.buffers.as_ref().expect("made above");
        let gpu = self.gpu;
        gpu.write_rows(&b.packets_in, bytemuck::cast_slice(&self.state));
        (uniform, tally_uniform)
    }
}
