//! Stage 3 of the ASE engine on the GPU, the host's side of `shaders/ase_transport.wgsl`
//! (and of `shaders/tallies.wgsl`): the kernel moves every packet of a time step, one
//! invocation each, with the device's gain spectra ([`GpuGain`]); the tallies kernel
//! sums what the packets gained, lost and took out of the film (in fixed point, so that
//! the sums do not depend on the order they are added in). The host continues the
//! packets and collects their exchange with the cells in packet order, as it does the
//! CPU transport's chunks, for the settling of the exchange.
//!
//! A packet meets at most [`ENTRIES`] film cells in a step on the GPU; one that meets
//! more (a long step through a fine grid), or takes more path segments than a software
//! adapter's loops allow ([`SOFTWARE_LOOP_PASSES`]: a long step through a strongly
//! scattering layer), is followed on the CPU from its state at the step's start, with
//! the same random stream and the device's gain spectra.

use super::gain::{self, GpuGain};
use super::platelets;
use super::transport::GpuLayer;
use super::{Dispatch, Gpu};
use crate::ase::photons::{AsePacket, Exchange, Fate, StepOutput, StepView, advance};
use crate::ase::tally::{EXITS, ExitTally, Ledger};
use crate::ase::{AseSetup, Span};
use crate::error::{Error, Result};
use crate::transport::geometry::{SUBSTRATE, Stack};

/// Exchange entries per packet and step (`ENTRIES` in ase_transport.wgsl).
pub const ENTRIES: usize = 8;
/// Segments after which a packet is stopped for the step, as on the CPU.
const MAX_SEGMENTS_PER_STEP: u32 = 1_000_000;
/// Segments a packet may take in a step on a software adapter such as lavapipe, which
/// runs an invocation's loops 65535 times in all and then leaves them without a word
/// (a segment can count twice); more are left to the host.
pub const SOFTWARE_LOOP_PASSES: u32 = 30_000;
/// Threads per workgroup of the kernels.
const WORKGROUP: u32 = 64;
/// Packets an invocation of tallies.wgsl sums (`RUN` there).
const TALLY_RUN: u32 = 64;
/// The totals of tallies.wgsl before the exits' spectra and time traces, by index:
/// photons stimulated, absorbed and lost to the background, roulette's net weight,
/// path segments, and terms beyond the fixed point's range.
const STIMULATED: usize = 0;
const ABSORBED: usize = 1;
const BACKGROUND: usize = 2;
const ROULETTE: usize = 3;
const SEGMENTS: usize = 4;
const OUT_OF_RANGE: usize = 5;
const TALLY_SCALARS: usize = 6;
/// The units of tallies.wgsl's fixed point a photon for a dispatch whose heaviest
/// packet at the step's start carries `heaviest` photons: 2^64 a power of two at or
/// above it (so that a photon count times it is exact in single precision), within
/// single precision's range.
fn tally_scale(heaviest: f64) -> f64 {
    let above = if heaviest > 0.0 {
        heaviest.log2().ceil()
    } else {
        0.0
    };
    (64.0 - above).clamp(-100.0, 100.0).exp2()
}
/// Most packets in one dispatch (a few segments each: well under a second on
/// lavapipe).
const MAX_DISPATCH: u32 = 1 << 18;

/// `AseParams` in ase_transport.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct AseParams {
    pub film: GpuLayer,
    pub substrate: GpuLayer,
    pub layers: u32,
    pub coupled: u32,
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub bins: u32,
    pub count: u32,
    pub point: u32,
    pub step: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub max_segments: u32,
    pub n_cover: f32,
    pub n_below: f32,
    pub half_length: f32,
    pub half_width: f32,
    pub cell_x: f32,
    pub cell_y: f32,
    pub cell_z: f32,
    pub t_end: f32,
    pub detector_cos: f32,
    pub roulette_threshold: f32,
    pub roulette_survival: f32,
    pub cell_lo_x: f32,
    pub cell_lo_y: f32,
    pub cell_lo_z: f32,
    pub guide_cos: f32,
    pub passes: u32,
}

/// `TallyParams` in tallies.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct TallyParams {
    pub count: u32,
    pub bins: u32,
    pub time_bins: u32,
    /// The step's start in time bins: its whole part and its fraction.
    pub start_bin: u32,
    pub start_fraction: f32,
    /// 1/(a time bin), 1/ps.
    pub per_time_bin: f32,
    /// Units of the fixed point a photon.
    pub scale: f32,
    pub _pad0: u32,
}

/// `GpuPacket` in ase_transport.wgsl: an [`AsePacket`] with its time counted from the
/// step's start.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuPacket {
    pub pos: [f32; 3],
    pub dir: [f32; 3],
    pub weight: f32,
    pub birth_weight: f32,
    pub time_ps: f32,
    pub bin: u32,
    pub layer: u32,
    pub id: u32,
}

/// `MovedPacket` in ase_transport.wgsl: a packet after the step, written over its
/// [`GpuPacket`], with what it did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MovedPacket {
    pub pos: [f32; 3],
    pub dir: [f32; 3],
    pub weight: f32,
    pub time_ps: f32,
    pub background: f32,
    pub roulette_net: f32,
    pub segments: u32,
    /// Layer (bits 0–7), fate (8–15), exit (16–23), exchange entries (24–31).
    pub state: u32,
}

impl MovedPacket {
    fn layer(&self) -> usize {
        (self.state & 0xff) as usize
    }
    fn fate(&self) -> u32 {
        (self.state >> 8) & 0xff
    }
    fn exit(&self) -> usize {
        ((self.state >> 16) & 0xff) as usize
    }
    fn entries(&self) -> usize {
        (self.state >> 24) as usize
    }
}

/// `Entry` in ase_transport.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Entry {
    pub cell: u32,
    pub stimulated: f32,
    pub absorbed: f32,
    pub _pad0: u32,
}

// Fates of MovedPacket.
const ALIVE: u32 = 0;
const EXITED: u32 = 1;
const KILLED: u32 = 2;
const OVERFLOW: u32 = 3;

/// Bytes of device memory per packet of one dispatch: its state as moved and its
/// entries, each with a read-back copy, and its state as uploaded (a texture).
pub const PER_PACKET: u64 = (2
    * (std::mem::size_of::<MovedPacket>() + ENTRIES * std::mem::size_of::<Entry>())
    + std::mem::size_of::<GpuPacket>()) as u64;

/// Packets a row of the texture the packets are uploaded in (`PACKETS_PER_ROW` in
/// ase_transport.wgsl): three RGBA32 texels each.
const PACKETS_PER_ROW: u32 = 1024;

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
        let [film, substrate] = GpuLayer::of_stack(stack);
        Self {
            film,
            substrate,
            layers: stack.layers.len() as u32,
            coupled: u32::from(setup.coupled),
            nx: setup.grid.nx as u32,
            ny: setup.grid.ny as u32,
            nz: setup.grid.nz as u32,
            bins: setup.spectrum.bins as u32,
            seed_lo: setup.seed as u32,
            seed_hi: (setup.seed >> 32) as u32,
            max_segments: MAX_SEGMENTS_PER_STEP,
            n_cover: stack.n_cover as f32,
            n_below: stack.n_below as f32,
            half_length: stack.half_length as f32,
            half_width: stack.half_width as f32,
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

/// Bytes of tallies.wgsl's totals for `setup`: four words each.
fn tally_bytes(setup: &AseSetup) -> u64 {
    let exits = EXITS.len() * (setup.spectrum.bins + setup.time_bins);
    16 * (TALLY_SCALARS + exits) as u64
}

/// Total `k` of tallies.wgsl: the 128-bit integer in words `4k` (lowest) to `4k + 3`.
fn total(words: &[u32], k: usize) -> i128 {
    (0..4).fold(0u128, |t, j| t | (u128::from(words[4 * k + j]) << (32 * j))) as i128
}

/// Add the totals of tallies.wgsl (`words`, in units of 1/`scale` photons) to
/// `ledger` and `tally`; returns the path segments.
fn add_device_tallies(
    words: &[u32],
    scale: f64,
    ledger: &mut Ledger,
    tally: &mut ExitTally,
) -> u64 {
    let photons = |k: usize| total(words, k) as f64 / scale;
    ledger.stimulated += photons(STIMULATED);
    ledger.absorbed += photons(ABSORBED);
    ledger.background += photons(BACKGROUND);
    ledger.roulette_net += photons(ROULETTE);
    let (bins, time_bins) = (tally.bins, tally.time_bins);
    let traces = TALLY_SCALARS + EXITS.len() * bins;
    for e in 0..EXITS.len() {
        let spectrum = TALLY_SCALARS + e * bins;
        for b in 0..bins {
            tally.spectrum[e * bins + b] += photons(spectrum + b);
        }
        for t in 0..time_bins {
            tally.trace[e * time_bins + t] += photons(traces + e * time_bins + t);
        }
        let left: i128 = (0..bins).map(|b| total(words, spectrum + b)).sum();
        ledger.exits[e] += left as f64 / scale;
    }
    total(words, SEGMENTS) as u64
}

/// What tallies.wgsl sums, summed on the host instead from the packets as moved
/// (`chunk` already continued from `moved`; packets followed on the CPU left out):
/// returns the path segments.
fn add_host_tallies(
    chunk: &[AsePacket],
    moved: &[MovedPacket],
    entries: &[Entry],
    ledger: &mut Ledger,
    tally: &mut ExitTally,
) -> u64 {
    let mut segments = 0u64;
    for (j, (p, m)) in chunk.iter().zip(moved).enumerate() {
        if m.fate() == OVERFLOW {
            continue;
        }
        ledger.background += f64::from(m.background);
        ledger.roulette_net += f64::from(m.roulette_net);
        segments += u64::from(m.segments);
        if let Fate::Exited(exit) = p.fate {
            tally.add(exit, p.bin as usize, p.time_ps, p.weight);
            ledger.exits[exit as usize] += p.weight;
        }
        for e in &entries[j * ENTRIES..j * ENTRIES + m.entries()] {
            ledger.stimulated += f64::from(e.stimulated);
            ledger.absorbed += f64::from(e.absorbed);
        }
    }
    segments
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

/// tallies.wgsl's pipeline and totals, with their read-back copy.
struct Tallies {
    pipeline: wgpu::ComputePipeline,
    totals: wgpu::Buffer,
    back: wgpu::Buffer,
    /// Photons a unit of the fixed point, when set for every dispatch (tests).
    unit: Option<f64>,
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
            let tally_uniform = {
                let start = t0 / tally.time_bin_ps;
                let heaviest = chunk.iter().map(|p| p.weight).fold(0.0, f64::max);
                let scale = self.tallies.unit.map_or(tally_scale(heaviest), |u| 1.0 / u);
                let params = TallyParams {
                    count,
                    bins,
                    time_bins: tally.time_bins as u32,
                    start_bin: start.floor() as u32,
                    start_fraction: start.fract() as f32,
                    per_time_bin: (1.0 / tally.time_bin_ps) as f32,
                    scale: scale as f32,
                    _pad0: 0,
                };
                (self.gpu.uniform("ase tally params", &params), scale)
            };
            self.buffers(count);
            let b = self.buffers.as_ref().expect("made above");
            let t = &self.tallies;
            let gpu = self.gpu;
            gpu.write_rows(&b.packets_in, bytemuck::cast_slice(&self.state));
            let size = |bytes: usize| u64::from(count) * bytes as u64;
            let overflow = &mut overflow;
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
                    for (j, (p, m)) in chunk.iter_mut().zip(moved).enumerate() {
                        let index = (first + j) as u32;
                        if m.fate() == OVERFLOW {
                            overflow.push(index as usize);
                            continue;
                        }
                        p.pos = m.pos.map(f64::from);
                        p.dir = m.dir.map(f64::from);
                        p.weight = f64::from(m.weight);
                        p.time_ps = t0 + f64::from(m.time_ps);
                        p.layer = m.layer();
                        match m.fate() {
                            ALIVE => {}
                            EXITED => p.fate = Fate::Exited(EXITS[m.exit()]),
                            KILLED => p.fate = Fate::Killed,
                            other => return Err(other),
                        }
                        // Only the film's cells give and take photons: the packet's
                        // exchange is all in its entries.
                        for e in &entries[j * ENTRIES..j * ENTRIES + m.entries()] {
                            if e.stimulated > 0.0 || e.absorbed > 0.0 {
                                exchange.push(Exchange {
                                    cell_bin: e.cell * bins + p.bin,
                                    packet: index,
                                    stimulated: f64::from(e.stimulated),
                                    absorbed: f64::from(e.absorbed),
                                });
                            }
                        }
                    }
                    // The device's sums, unless a term was beyond their range.
                    let words: &[u32] = bytemuck::cast_slice(bytes[2]);
                    Ok(if total(words, OUT_OF_RANGE) == 0 {
                        (add_device_tallies(words, scale, ledger, tally), false)
                    } else {
                        (add_host_tallies(chunk, moved, entries, ledger, tally), true)
                    })
                },
            )?;
            let (batch_segments, on_host) = booked.map_err(|fate| {
                Error::Runtime(format!(
                    "GPU {}: ASE transport, step {step}: a packet came back with fate {fate}",
                    gpu.info.name
                ))
            })?;
            segments += batch_segments;
            self.tallied_on_host += u64::from(on_host);
        }
        if !overflow.is_empty() {
            // Followed again on the CPU from the step's start, with the same stream and
            // the device's gain.
            self.overflowed += overflow.len() as u64;
            let mut stim = vec![0.0; view.stim.len()];
            let mut abs = vec![0.0; view.abs.len()];
            gain.read_spectra(&mut stim, &mut abs)?;
            let device_view = StepView {
                stim: &stim,
                abs: &abs,
                ..*view
            };
            for index in overflow {
                let mut out = StepOutput::new(setup);
                advance(
                    &device_view,
                    &mut packets[index],
                    index as u32,
                    (point, step),
                    t1,
                    &mut out,
                );
                tally.merge(&out.tally);
                ledger.merge(&out.ledger);
                segments += out.segments;
                exchange.extend(out.exchange);
            }
        }
        Ok((exchange, segments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// tallies.wgsl on made-up packets (a thousand of each run of `TALLY_RUN` and
    /// more: every fate, up to every entry, terms of either sign across 2^60 of
    /// magnitude, exits in every bin) gives the exact integer sums of the terms in
    /// its fixed point, word for word, as Rust's 128-bit integers give them.
    #[test]
    fn the_device_tallies_are_exact_sums_in_fixed_point() {
        let Some(gpu) = Gpu::open().expect("the GPU opens") else {
            assert!(
                std::env::var_os("ASEMC_REQUIRE_GPU").is_none(),
                "ASEMC_REQUIRE_GPU is set but wgpu finds no adapter"
            );
            println!("skipped: wgpu finds no adapter here");
            return;
        };
        let (bins, time_bins, count) = (16usize, 7usize, 70_000u32);
        let heaviest = 3.0e4;
        let scale = tally_scale(heaviest);
        let mut rng = Stream::new(5, Purpose::Photon, 0, 0, 0);
        // A term of 2^-40 to 2^20 of the heaviest weight (most of them exact in the
        // fixed point, the smallest rounded), of either sign where `signed`.
        let mut term = |signed: bool| -> f32 {
            let x = (heaviest * (rng.uniform() * 60.0 - 40.0).exp2()) as f32;
            if signed && rng.uniform() < 0.5 { -x } else { x }
        };
        let mut packets_in = Vec::new();
        let mut moved = Vec::new();
        let mut entries = vec![Entry::default(); count as usize * ENTRIES];
        for i in 0..count as usize {
            let fate = [ALIVE, EXITED, KILLED, OVERFLOW, EXITED][i % 5];
            let exit = (i / 5) % EXITS.len();
            let used = (i / 3) % (ENTRIES + 1);
            packets_in.push(GpuPacket {
                bin: ((i * 7) % bins) as u32,
                ..GpuPacket::default()
            });
            moved.push(MovedPacket {
                weight: term(false),
                time_ps: (i % 97) as f32 * 0.0123,
                background: term(false),
                roulette_net: term(true),
                segments: (i % 13) as u32 + 1,
                state: (fate << 8) | ((exit as u32) << 16) | ((used as u32) << 24),
                ..MovedPacket::default()
            });
            for e in &mut entries[i * ENTRIES..i * ENTRIES + used] {
                *e = Entry {
                    cell: 0,
                    stimulated: term(false),
                    absorbed: term(false),
                    _pad0: 0,
                };
            }
        }
        let params = TallyParams {
            count,
            bins: bins as u32,
            time_bins: time_bins as u32,
            start_bin: 2,
            start_fraction: 0.75,
            per_time_bin: 2.5,
            scale: scale as f32,
            _pad0: 0,
        };

        // The sums Rust makes of the same terms, rounded as the kernel rounds them.
        let units = |x: f32| (f64::from(x) * scale).round_ties_even() as i128;
        let mut expected = vec![0i128; TALLY_SCALARS + EXITS.len() * (bins + time_bins)];
        for (i, m) in moved.iter().enumerate() {
            if m.fate() == OVERFLOW {
                continue;
            }
            expected[STIMULATED] += entries[i * ENTRIES..i * ENTRIES + m.entries()]
                .iter()
                .map(|e| units(e.stimulated))
                .sum::<i128>();
            expected[ABSORBED] += entries[i * ENTRIES..i * ENTRIES + m.entries()]
                .iter()
                .map(|e| units(e.absorbed))
                .sum::<i128>();
            expected[BACKGROUND] += units(m.background);
            expected[ROULETTE] += units(m.roulette_net);
            expected[SEGMENTS] += i128::from(m.segments);
            if m.fate() == EXITED {
                let e = m.exit();
                let within = (0.75f32 + m.time_ps * 2.5).floor() as usize;
                let t = (2 + within).min(time_bins - 1);
                let w = units(m.weight);
                expected[TALLY_SCALARS + e * bins + packets_in[i].bin as usize] += w;
                expected[TALLY_SCALARS + EXITS.len() * bins + e * time_bins + t] += w;
            }
        }
        // Every word of the totals in use, and negative terms among them.
        assert!(expected[STIMULATED] > 1 << 96 && moved.iter().any(|m| m.roulette_net < 0.0));

        let bytes = 16 * expected.len() as u64;
        let (texture, view) = gpu.texture(
            "packets in",
            wgpu::TextureFormat::Rgba32Uint,
            3 * PACKETS_PER_ROW,
            count.div_ceil(PACKETS_PER_ROW),
        );
        gpu.write_rows(&texture, bytemuck::cast_slice(&packets_in));
        let packets = gpu.storage("moved", std::mem::size_of_val(moved.as_slice()) as u64);
        gpu.write(&packets, bytemuck::cast_slice(&moved));
        let entry_buffer = gpu.storage("entries", std::mem::size_of_val(entries.as_slice()) as u64);
        gpu.write(&entry_buffer, bytemuck::cast_slice(&entries));
        let totals = gpu.storage("totals", bytes);
        gpu.write(&totals, &vec![0; bytes as usize]);
        let back = gpu.readback("totals back", bytes);
        let uniform = gpu.uniform("params", &params);
        let pipeline = gpu.pipeline("tallies", "tallies").unwrap();
        let dispatch = Dispatch {
            pipeline: &pipeline,
            buffers: &[&uniform, &packets, &entry_buffer, &totals],
            textures: &[&view],
            workgroups: gpu.grid(count.div_ceil(TALLY_RUN * WORKGROUP)),
        };
        let got: Vec<i128> = gpu
            .run_then_read("tallies", &dispatch, &[(&totals, &back, bytes)], |b| {
                let words: &[u32] = bytemuck::cast_slice(b[0]);
                (0..expected.len()).map(|k| total(words, k)).collect()
            })
            .unwrap();
        assert_eq!(got[OUT_OF_RANGE], 0, "terms out of range");
        for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "total {k}");
        }

        // A term beyond 2^40 of the heaviest weight is counted, not summed.
        moved[0].background = (heaviest * 2f64.powi(41)) as f32;
        gpu.write(&packets, bytemuck::cast_slice(&moved));
        gpu.write(&totals, &vec![0; bytes as usize]);
        let out_of_range = gpu
            .run_then_read("tallies", &dispatch, &[(&totals, &back, bytes)], |b| {
                total(bytemuck::cast_slice(b[0]), OUT_OF_RANGE)
            })
            .unwrap();
        assert_eq!(out_of_range, 1);
    }
}
