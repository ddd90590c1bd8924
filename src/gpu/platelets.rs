//! The sampled platelets kept on the GPU: every platelet's transition energy, exciton
//! count and next loss event time; their loss events within a time step
//! (`shaders/platelet_decay.wgsl`, the device's [`crate::ase::platelets::loss_events`])
//! and the booking of whole excitons against them (`shaders/platelet_booking.wgsl`, the
//! device's [`crate::ase::exchange::Booking`]). Both run one workgroup per listed cell
//! and return what each cell then holds. The spontaneous emission's packets are drawn
//! from them there too (`shaders/spontaneous_emission.wgsl`, the device's
//! [`crate::ase::spontaneous::launch`]). Each kernel's host side is in the file named
//! after it ([`super::platelet_decay`], [`super::platelet_booking`],
//! [`super::spontaneous_emission`]); this one holds the platelets they share.

pub use super::platelet_booking::{Booked, BookingParams, CellBooked, GpuOrder};
pub use super::platelet_decay::{CellDecay, DecayParams, Losses};
pub use super::spontaneous_emission::{LAUNCH_GROUP, LaunchEntry, LaunchParams, Launched, NOTHING};

use super::platelet_booking::orders_per_cell;
use super::{Dispatch, Gpu};
use crate::ase::AseSetup;
use crate::ase::CellSummary;
use crate::ase::platelets::Film;
use crate::config::{AugerScaling, LineShape};
use crate::error::{Error, Result};

/// Most platelets one dispatch of loss events or bookings visits (a dispatch takes
/// several cells while they fit, and at least one): a dispatch of loss events is then
/// about a tenth of a second on lavapipe far above threshold.
pub const MAX_PLATELETS: usize = 1 << 20;

/// Device memory the platelets of `setup` take, bytes: energies, counts and next event
/// times and the read-back copies of the last two, and the counts the gain spectra
/// hold (`gpu::gain::GpuGain::attach`); a step's launch entries and packets drawn (and
/// read-back copy); a cell list, where each cell's orders
/// begin, and a `CellDecay` and a `CellBooked` (and their read-back copies) for every
/// cell; the orders of a booking and their unbooked excitons (and read-back copy).
pub fn memory_needed(setup: &AseSetup) -> u64 {
    let cells = setup.grid.cells();
    let platelets = cells * setup.samples_per_cell;
    let orders = cells * orders_per_cell(setup);
    // A step launches at most `packets_per_step` packets (a shorter step, fewer), in
    // entries of up to LAUNCH_GROUP a cell; both buffers grow to powers of two.
    let packets = setup.packets_per_step as usize;
    let entries = cells + packets.div_ceil(LAUNCH_GROUP as usize);
    let launch = (entries * std::mem::size_of::<LaunchEntry>()).next_power_of_two()
        + 2 * (packets * std::mem::size_of::<Launched>()).next_power_of_two();
    (4 * 6 * platelets
        + cells
            * (8 + 2 * std::mem::size_of::<CellDecay>() + 2 * std::mem::size_of::<CellBooked>())
        + orders * (std::mem::size_of::<GpuOrder>() + 8)
        + launch) as u64
}

/// The platelets of one film on a GPU.
pub struct GpuPlatelets<'g> {
    pub(super) gpu: &'g Gpu,
    pub(super) params: DecayParams,
    pub(super) booking: BookingParams,
    pub(super) mean_ev: f64,
    pub(super) cells: usize,
    pub(super) samples: usize,
    /// Every platelet's exciton count, cell by cell.
    pub counts: wgpu::Buffer,
    /// Every platelet's next loss event time, ps (f32).
    pub next: wgpu::Buffer,
    /// Every platelet's transition energy, offset from the mean, eV.
    pub energy: wgpu::Buffer,
    counts_back: wgpu::Buffer,
    next_back: wgpu::Buffer,
    pub(super) dispatched: wgpu::Buffer,
    pub(super) decayed: wgpu::Buffer,
    pub(super) decayed_back: wgpu::Buffer,
    pub(super) decay_pipeline: wgpu::ComputePipeline,
    /// Where each listed cell's orders begin, the orders, and their unbooked excitons.
    pub(super) first: wgpu::Buffer,
    pub(super) orders: wgpu::Buffer,
    pub(super) orders_capacity: usize,
    pub(super) left: wgpu::Buffer,
    pub(super) left_back: wgpu::Buffer,
    pub(super) booked: wgpu::Buffer,
    pub(super) booked_back: wgpu::Buffer,
    pub(super) booking_pipeline: wgpu::ComputePipeline,
    pub(super) launch: LaunchParams,
    pub(super) launch_pipeline: wgpu::ComputePipeline,
    /// A launch's entries and packets, as many as the largest so far.
    pub(super) launch_entries: Option<wgpu::Buffer>,
    pub(super) launched: Option<(wgpu::Buffer, wgpu::Buffer)>,
    /// Most platelets a dispatch of loss events or bookings visits.
    dispatch_platelets: usize,
}

/// Loop passes a workgroup of the platelet kernels makes before it stops and leaves the
/// rest to a further dispatch (`PASSES` in the kernels): lavapipe runs an invocation's
/// loops 65535 times in all, and a pass can count twice.
pub use super::shared::LOOP_PASSES;

impl<'g> GpuPlatelets<'g> {
    pub fn new(gpu: &'g Gpu, setup: &AseSetup) -> Result<Self> {
        Self::with_loop_passes(gpu, setup, LOOP_PASSES)
    }

    /// As [`GpuPlatelets::new`], the kernels stopping after `passes` loop passes (a
    /// lower number makes them stop and go on in further dispatches often: for tests).
    pub fn with_loop_passes(gpu: &'g Gpu, setup: &AseSetup, passes: u32) -> Result<Self> {
        let cells = setup.grid.cells();
        let samples = setup.samples_per_cell;
        // A booking must get through the slots' setting, the final sums, an order's
        // bound and a summed-weight move (see platelet_booking.wgsl) within its passes.
        let stretch = samples.div_ceil(64) as u32;
        let g = setup.optics.degeneracy.max(2);
        let needed = |stretch: u32| 16 + stretch * (2 + g) + 2 * stretch + 1;
        if needed(stretch) > LOOP_PASSES {
            let most = 64 * (LOOP_PASSES - 17) / (4 + g);
            return Err(Error::Runtime(format!(
                "GPU {}: the device keeps at most about {most} sampled platelets a cell, not {samples}; use fewer, or the CPU backend",
                gpu.info.name
            )));
        }
        if passes.min(LOOP_PASSES) < needed(stretch) {
            return Err(Error::Runtime(format!(
                "GPU {}: {passes} loop passes are too few for {samples} sampled platelets a cell (at least {})",
                gpu.info.name,
                needed(stretch)
            )));
        }
        let passes = f64::from(passes.min(LOOP_PASSES));
        let bytes = 4 * (cells * samples) as u64;
        let most = gpu.limits.max_storage_buffer_binding_size;
        if bytes > most {
            return Err(Error::Runtime(format!(
                "GPU {}: the {} sampled platelets of the film need {} MiB a buffer, more than the {} MiB the device binds; use fewer platelets per cell, or the CPU backend",
                gpu.info.name,
                cells * samples,
                bytes >> 20,
                most >> 20,
            )));
        }
        let kinetics = &setup.kinetics;
        let params = DecayParams::new(setup);
        let optics = &setup.optics;
        let booking = BookingParams::new(setup, &params);
        let launch = LaunchParams::new(setup, &params);
        let cubic = f64::from(u8::from(kinetics.auger == AugerScaling::Cubic));
        let gaussian = f64::from(u8::from(optics.line.shape == LineShape::Gaussian));
        let per_cell = (cells * std::mem::size_of::<CellDecay>()) as u64;
        let booked = (cells * std::mem::size_of::<CellBooked>()) as u64;
        let orders_capacity = cells * orders_per_cell(setup);
        let order_bytes = (orders_capacity * std::mem::size_of::<GpuOrder>()) as u64;
        Ok(Self {
            gpu,
            params,
            booking,
            mean_ev: optics.mean_energy_ev,
            cells,
            samples,
            counts: gpu.storage("platelet counts", bytes),
            next: gpu.storage("platelet next loss times", bytes),
            energy: gpu.input("platelet transition energies", bytes),
            counts_back: gpu.readback("platelet counts read-back", bytes),
            next_back: gpu.readback("platelet next loss times read-back", bytes),
            dispatched: gpu.input("cells of a decay dispatch", 4 * cells as u64),
            decayed: gpu.storage("cells' decay", per_cell),
            decayed_back: gpu.readback("cells' decay read-back", per_cell),
            decay_pipeline: gpu.pipeline_with(
                "platelet_decay",
                "platelet_decay",
                &[("CUBIC", cubic), ("PASSES", passes)],
            )?,
            first: gpu.input("first order of each cell", 4 * (cells as u64 + 1)),
            orders: gpu.input("booking orders", order_bytes),
            orders_capacity,
            left: gpu.storage("unbooked excitons", 4 * orders_capacity as u64),
            left_back: gpu.readback("unbooked excitons read-back", 4 * orders_capacity as u64),
            booked: gpu.storage("cells' booking", booked),
            booked_back: gpu.readback("cells' booking read-back", booked),
            booking_pipeline: gpu.pipeline_with(
                "platelet_booking",
                "platelet_booking",
                &[("CUBIC", cubic), ("GAUSSIAN", gaussian), ("PASSES", passes)],
            )?,
            launch,
            launch_pipeline: gpu.pipeline_with(
                "spontaneous_emission",
                "spontaneous_emission",
                &[("GAUSSIAN", gaussian)],
            )?,
            launch_entries: None,
            launched: None,
            dispatch_platelets: MAX_PLATELETS,
        })
    }

    /// Cells a dispatch of loss events or bookings takes: as many as hold
    /// `dispatch_platelets` platelets, and at least one.
    pub(super) fn cells_per_dispatch(&self) -> usize {
        (self.dispatch_platelets / self.samples).max(1)
    }

    /// The same, each dispatch of loss events or bookings visiting at most `platelets`
    /// platelets ([`MAX_PLATELETS`]; fewer split them into more dispatches: for tests).
    pub fn with_dispatch_platelets(self, platelets: usize) -> Self {
        Self {
            dispatch_platelets: platelets,
            ..self
        }
    }

    /// Take the transition energies, counts and next loss times of `film`'s platelets.
    pub fn load(&mut self, film: &Film) {
        let energy: Vec<f32> = film
            .platelets
            .iter()
            .map(|p| (p.energy_ev - self.mean_ev) as f32)
            .collect();
        self.gpu.write(&self.energy, bytemuck::cast_slice(&energy));
        let counts: Vec<u32> = film.platelets.iter().map(|p| p.n).collect();
        let next: Vec<f32> = film.platelets.iter().map(|p| p.next_ps as f32).collect();
        self.gpu.write(&self.counts, bytemuck::cast_slice(&counts));
        self.gpu.write(&self.next, bytemuck::cast_slice(&next));
    }

    /// The exciton counts of the platelets of `cells`, cell after cell.
    pub fn counts_of(&self, cells: &[u32]) -> Result<Vec<u32>> {
        let bytes = 4 * self.samples as u64;
        let ranges: Vec<(u64, u64)> = cells
            .iter()
            .map(|&c| (u64::from(c) * bytes, bytes))
            .collect();
        self.gpu.read_ranges(
            "reading the platelets' counts",
            &self.counts,
            &self.counts_back,
            &ranges,
            |b| bytemuck::cast_slice(b).to_vec(),
        )
    }

    /// Run the platelet kernel `pipeline` over `groups` workgroups, `params` its
    /// uniform and `buffers` bound after it, then hand `copies` read back to `read`;
    /// `what` names the work (and its uniform, "`what` params") for errors.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_kernel<P: bytemuck::Pod, R>(
        &self,
        what: &str,
        pipeline: &wgpu::ComputePipeline,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: u32,
        copies: &[(&wgpu::Buffer, &wgpu::Buffer, u64)],
        read: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R> {
        let gpu = self.gpu;
        let uniform = gpu.uniform(&format!("{what} params"), params);
        let bound: Vec<&wgpu::Buffer> = std::iter::once(&uniform)
            .chain(buffers.iter().copied())
            .collect();
        let dispatch = Dispatch {
            pipeline,
            buffers: &bound,
            textures: &[],
            workgroups: gpu.grid(groups),
        };
        gpu.run_then_read(what, &dispatch, copies, read)
    }

    /// Every platelet's exciton count and next loss event time (ps), as the device
    /// holds them.
    pub fn read(&self) -> Result<(Vec<u32>, Vec<f32>)> {
        let size = 4 * (self.cells * self.samples) as u64;
        self.gpu.read_pair(
            "reading the platelets",
            (&self.counts, &self.counts_back),
            (&self.next, &self.next_back),
            size,
        )
    }
}

/// A cell's summary from what the device returned.
pub(super) fn summary(excitons: u32, room: u32, next: f32) -> CellSummary {
    CellSummary {
        excitons: u64::from(excitons),
        room: u64::from(room),
        next_ps: f64::from(next),
    }
}
