//! The passive transport on the GPU: `shaders/transport.wgsl` traces batches of
//! packets, each invocation a fixed strided set of them, and the host adds their
//! records in packet order into
//! the same [`Tally`] the CPU fills. Batches are sized so that one dispatch takes about
//! a quarter of a second, within the 65 535-workgroup and 128 MiB binding limits.

use std::time::Instant;

use super::Gpu;
use crate::error::Result;
use crate::transport::TransportSetup;
use crate::transport::geometry::{FILM, Layer, SUBSTRATE, Stack};
use crate::transport::packet::MAX_INTERACTIONS;
use crate::transport::simulate::run_chunk;
use crate::transport::source::PassiveSource;
use crate::transport::tally::{Channel, PhotonScore, Tally};

impl GpuLayer {
    /// The film and the substrate of `stack` (zeros without a substrate).
    pub fn of_stack(stack: &Stack) -> [Self; 2] {
        [
            Self::from(&stack.layers[FILM]),
            stack
                .layers
                .get(SUBSTRATE)
                .map(Self::from)
                .unwrap_or_default(),
        ]
    }
}

impl GpuSlab {
    /// `stack` as the kernels' mover sees it; `finite_length` and `finite_width` say
    /// whether the film ends along x and along y (the passive transport's film may
    /// not; the ASE engine's always does).
    pub fn of_stack(stack: &Stack) -> Self {
        let [film, substrate] = GpuLayer::of_stack(stack);
        let half = |h: f64| if h.is_finite() { h as f32 } else { 0.0 };
        Self {
            film,
            substrate,
            layers: stack.layers.len() as u32,
            n_cover: stack.n_cover as f32,
            n_below: stack.n_below as f32,
            half_length: half(stack.half_length),
            half_width: half(stack.half_width),
            finite_length: u32::from(stack.half_length.is_finite()),
            finite_width: u32::from(stack.half_width.is_finite()),
            ..Self::default()
        }
    }
}

impl From<&Layer> for GpuLayer {
    fn from(l: &Layer) -> Self {
        Self {
            z_top: l.z_top as f32,
            z_bottom: l.z_bottom as f32,
            n: l.n as f32,
            mu_a: l.mu_a as f32,
            mu_s: l.mu_s as f32,
            g: l.g as f32,
            ..Self::default()
        }
    }
}

/// `exit_channel` of a packet that did not leave.
const NO_EXIT: u32 = u32::MAX;
/// `exit_channel` of a packet the kernel stopped before finishing (`UNFINISHED` in
/// transport.wgsl): lavapipe leaves a loop after 65535 passes in an invocation.
const UNFINISHED: u32 = u32::MAX - 1;
/// Threads per workgroup of the kernel.
use super::shared::WORKGROUP;
/// The structs this kernel shares with the host (`GpuLayer`, `TransportParams`, `PhotonRecord`), defined
/// once in `gpu::shared`.
pub use super::shared::{GpuLayer, GpuSlab, PhotonRecord, TransportParams};
/// Packets each invocation traces one after another (fewer in a batch's last
/// workgroups): enough that the lanes of a SIMD group finish at about the same time.
const PACKETS_PER_INVOCATION: u32 = 64;
/// Target wall time of one dispatch, s.
const TARGET_DISPATCH_S: f64 = 0.25;
/// Packets in the first batch of a point; later batches scale to the measured rate.
const FIRST_BATCH: u32 = 4096;

impl TransportParams {
    /// The parameters of `setup` for sweep point `point`.
    pub fn new(setup: &TransportSetup, point: u32) -> Self {
        Self {
            slab: GpuSlab::of_stack(&setup.stack),
            isotropic: u32::from(setup.launcher.kind == PassiveSource::Isotropic),
            fixed_depth: u32::from(setup.launcher.depth.is_some()),
            point,
            source_x: setup.launcher.x as f32,
            source_y: setup.launcher.y as f32,
            source_depth: setup.launcher.depth.unwrap_or(0.0) as f32,
            roulette_threshold: setup.roulette.threshold as f32,
            roulette_survival: setup.roulette.survival as f32,
            max_interactions: MAX_INTERACTIONS,
            seed_lo: setup.seed as u32,
            seed_hi: (setup.seed >> 32) as u32,
            ..Self::default()
        }
    }
}

/// Book one packet's record into `tally`, as the CPU books a traced packet.
fn book(tally: &mut Tally, r: &PhotonRecord) {
    let mut score = PhotonScore::new();
    for (k, w) in r.score.iter().enumerate() {
        score.weight[k] = f64::from(*w);
    }
    tally.add_photon(&score);
    tally.steps += u64::from(r.steps);
    if r.exit_channel != NO_EXIT {
        let exit = Channel::ALL[r.exit_channel as usize];
        tally.add_time(exit, f64::from(r.exit_time_ps), f64::from(r.exit_weight));
    }
}

/// The largest batch of packets one dispatch may hold on `gpu`: bounded by the size of
/// one storage binding of records and by the dispatch's workgroup count.
pub fn max_batch(limits: &wgpu::Limits) -> u32 {
    let record = std::mem::size_of::<PhotonRecord>() as u64;
    let by_binding = limits.max_storage_buffer_binding_size / record;
    let by_dispatch = u64::from(limits.max_compute_workgroups_per_dimension)
        * u64::from(WORKGROUP * PACKETS_PER_INVOCATION);
    by_binding.min(by_dispatch).min(u64::from(u32::MAX)) as u32
}

/// Device memory the transport of `photons` packets uses on `gpu`, bytes: the record
/// buffer (one batch) and its read-back copy.
pub fn memory_needed(limits: &wgpu::Limits, photons: u64) -> u64 {
    let record = std::mem::size_of::<PhotonRecord>() as u64;
    2 * photons.min(u64::from(max_batch(limits))) * record
}

/// Trace `setup.photons` packets of point `point` on `gpu`; `progress` gets the packet
/// count of every finished batch.
pub fn simulate(
    gpu: &Gpu,
    setup: &TransportSetup,
    point: u32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tally> {
    let pipeline = gpu.pipeline("transport", "transport")?;
    let record = std::mem::size_of::<PhotonRecord>() as u64;
    let max_batch = max_batch(&gpu.limits)
        .min(setup.photons.min(u64::from(u32::MAX)) as u32)
        .max(1);
    let records = gpu.storage("transport records", u64::from(max_batch) * record);
    let mut tally = Tally::new(setup.bins);
    let mut params = TransportParams::new(setup, point);
    let mut batch = FIRST_BATCH.min(max_batch);
    let mut done: u64 = 0;
    while done < setup.photons {
        let count = (setup.photons - done).min(u64::from(batch)) as u32;
        params.first = done as u32;
        params.count = count;
        let uniform = gpu.uniform("transport params", &params);
        let start = Instant::now();
        let bytes = gpu.dispatch_and_read(
            &format!(
                "transport of packets {done}…{}",
                done + u64::from(count) - 1
            ),
            &pipeline,
            &[&uniform, &records],
            count.div_ceil(WORKGROUP * PACKETS_PER_INVOCATION),
            &records,
            u64::from(count) * record,
        )?;
        let elapsed = start.elapsed().as_secs_f64();
        for (k, r) in bytemuck::cast_slice::<u8, PhotonRecord>(&bytes)
            .iter()
            .enumerate()
        {
            if r.exit_channel == UNFINISHED {
                // Traced on the CPU from its start, with the same random numbers.
                tally.merge(&run_chunk(setup, point, done + k as u64, 1));
            } else {
                book(&mut tally, r);
            }
        }
        done += u64::from(count);
        progress(u64::from(count));
        // Aim the next batch at the target dispatch time.
        let rate = f64::from(count) / elapsed.max(1e-6);
        batch = ((rate * TARGET_DISPATCH_S) as u32).clamp(WORKGROUP, max_batch);
    }
    Ok(tally)
}
