//! The sampled platelets kept on the GPU: every platelet's transition energy, exciton
//! count and next loss event time; their loss events within a time step
//! (`shaders/platelet_decay.wgsl`, the device's [`crate::ase::platelets::loss_events`])
//! and the booking of whole excitons against them (`shaders/platelet_booking.wgsl`, the
//! device's [`crate::ase::exchange::Booking`]). Both run one workgroup per listed cell
//! and return what each cell then holds. The spontaneous emission's packets are drawn
//! from them there too (`shaders/spontaneous_emission.wgsl`, the device's
//! [`crate::ase::spontaneous::launch`]).

use super::{Dispatch, Gpu};
use crate::ase::AseSetup;
use crate::ase::CellSummary;
use crate::ase::exchange::Order;
use crate::ase::platelets::Film;
use crate::ase::spontaneous::Draw;
use crate::config::{AugerScaling, LineShape};
use crate::error::{Error, Result};
use crate::rng::Purpose;

/// `DecayParams` in platelet_decay.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct DecayParams {
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub point: u32,
    pub step: u32,
    pub samples: u32,
    pub degeneracy: u32,
    pub count: u32,
    pub part: u32,
    pub t1: f32,
    pub k_nonrad: f32,
    pub k_xx: f32,
    pub _pad1: f32,
}

/// `CellDecay` in platelet_decay.wgsl: what a cell's platelets hold after a step (their
/// sampled excitons, their room for more Σ max(0, g_d − n), and their earliest next loss
/// event, ps) and the loss events they had in it; `stopped` is 1 when the workgroup
/// stopped before the step's end (the sums are then partial, the events so far done).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CellDecay {
    pub excitons: u32,
    pub room: u32,
    pub next: f32,
    pub nonradiative: u32,
    pub auger: u32,
    pub stopped: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `BookingParams` in platelet_booking.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BookingParams {
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub point: u32,
    pub step: u32,
    pub samples: u32,
    pub degeneracy: u32,
    pub count: u32,
    pub purpose: u32,
    pub t_now: f32,
    pub k_nonrad: f32,
    pub k_xx: f32,
    pub inv_hwhm: f32,
    pub biexciton_shift_ev: f32,
    pub part: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `Order` in platelet_booking.wgsl: move `count` sampled excitons of `kind`
/// ([`crate::ase::exchange::OrderKind`]), for photons at `energy` (offset from the mean
/// transition energy, eV).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuOrder {
    pub energy: f32,
    pub kind: u32,
    pub count: u32,
    pub _pad0: u32,
}

impl GpuOrder {
    /// `order` for platelets whose mean transition energy is `mean_ev`.
    pub fn new(order: &Order, mean_ev: f64) -> Self {
        Self {
            energy: (order.energy_ev - mean_ev) as f32,
            kind: order.kind as u32,
            count: order.count,
            _pad0: 0,
        }
    }
}

/// `CellBooked` in platelet_booking.wgsl: what a cell's platelets hold after its
/// orders (as in [`CellDecay`]), the excitons the orders moved, and where the
/// workgroup stopped (0: after the last order; else 1 + the index of the order it
/// stopped in among the cell's, whose unbooked excitons are then those it had still to
/// move, the later orders not begun).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CellBooked {
    pub excitons: u32,
    pub room: u32,
    pub next: f32,
    pub moved: u32,
    pub stopped: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// `LaunchParams` in spontaneous_emission.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LaunchParams {
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub point: u32,
    pub step: u32,
    pub samples: u32,
    pub count: u32,
    pub bins: u32,
    pub cone: u32,
    pub cone_cos: f32,
    pub hwhm_ev: f32,
    pub biexciton_shift_ev: f32,
    pub mean_ev: f32,
    pub min_nm: f32,
    pub bin_nm: f32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `LaunchEntry` in spontaneous_emission.wgsl: packets `k0..k0 + packets` (at most
/// [`LAUNCH_GROUP`]) of a cell whose platelets hold `excitons`, written from `out` on.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LaunchEntry {
    pub cell: u32,
    pub k0: u32,
    pub packets: u32,
    pub excitons: u32,
    pub out: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// `Launched` in spontaneous_emission.wgsl: a packet's platelet (index in the film) and
/// bin ([`NOTHING`]: none), start as a fraction of the step, and direction(s).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Launched {
    pub platelet: u32,
    pub bin: u32,
    pub time: f32,
    pub _pad0: u32,
    pub dir_a: [f32; 4],
    pub dir_b: [f32; 4],
}

/// `NOTHING` in spontaneous_emission.wgsl.
pub const NOTHING: u32 = u32::MAX;

/// Packets of one cell a launch workgroup draws (`WORKGROUP` there).
pub const LAUNCH_GROUP: u32 = 64;

/// Most platelets one dispatch of loss events or bookings visits (a dispatch takes
/// several cells while they fit, and at least one): a dispatch of loss events is then
/// about a tenth of a second on lavapipe far above threshold.
pub const MAX_PLATELETS: usize = 1 << 20;

/// Orders a cell can have in one booking: two a bin (stimulated and absorbed), or one
/// (radiative).
fn orders_per_cell(setup: &AseSetup) -> usize {
    2 * setup.spectrum.bins
}

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
    gpu: &'g Gpu,
    params: DecayParams,
    booking: BookingParams,
    mean_ev: f64,
    cells: usize,
    samples: usize,
    /// Every platelet's exciton count, cell by cell.
    pub counts: wgpu::Buffer,
    /// Every platelet's next loss event time, ps (f32).
    pub next: wgpu::Buffer,
    /// Every platelet's transition energy, offset from the mean, eV.
    pub energy: wgpu::Buffer,
    counts_back: wgpu::Buffer,
    next_back: wgpu::Buffer,
    dispatched: wgpu::Buffer,
    decayed: wgpu::Buffer,
    decayed_back: wgpu::Buffer,
    decay_pipeline: wgpu::ComputePipeline,
    /// Where each listed cell's orders begin, the orders, and their unbooked excitons.
    first: wgpu::Buffer,
    orders: wgpu::Buffer,
    orders_capacity: usize,
    left: wgpu::Buffer,
    left_back: wgpu::Buffer,
    booked: wgpu::Buffer,
    booked_back: wgpu::Buffer,
    booking_pipeline: wgpu::ComputePipeline,
    launch: LaunchParams,
    launch_pipeline: wgpu::ComputePipeline,
    /// A launch's entries and packets, as many as the largest so far.
    launch_entries: Option<wgpu::Buffer>,
    launched: Option<(wgpu::Buffer, wgpu::Buffer)>,
    /// Most platelets a dispatch of loss events or bookings visits.
    dispatch_platelets: usize,
}

/// Loop passes a workgroup of the platelet kernels makes before it stops and leaves the
/// rest to a further dispatch (`PASSES` in the kernels): lavapipe runs an invocation's
/// loops 65535 times in all, and a pass can count twice.
pub const LOOP_PASSES: u32 = 30_000;

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
        let params = DecayParams {
            seed_lo: setup.seed as u32,
            seed_hi: (setup.seed >> 32) as u32,
            samples: samples as u32,
            degeneracy: setup.optics.degeneracy,
            k_nonrad: kinetics.k_nonrad as f32,
            k_xx: kinetics.k_xx as f32,
            ..DecayParams::default()
        };
        let optics = &setup.optics;
        let booking = BookingParams {
            seed_lo: params.seed_lo,
            seed_hi: params.seed_hi,
            samples: params.samples,
            degeneracy: params.degeneracy,
            k_nonrad: params.k_nonrad,
            k_xx: params.k_xx,
            inv_hwhm: (1.0 / optics.line.hwhm_ev) as f32,
            biexciton_shift_ev: optics.biexciton_shift_ev as f32,
            ..BookingParams::default()
        };
        let launch = LaunchParams {
            seed_lo: params.seed_lo,
            seed_hi: params.seed_hi,
            samples: params.samples,
            bins: setup.spectrum.bins as u32,
            cone: u32::from(setup.axial_cone_cos.is_some()),
            cone_cos: setup.axial_cone_cos.unwrap_or(1.0) as f32,
            hwhm_ev: optics.line.hwhm_ev as f32,
            biexciton_shift_ev: optics.biexciton_shift_ev as f32,
            mean_ev: optics.mean_energy_ev as f32,
            min_nm: setup.spectrum.min_nm as f32,
            bin_nm: setup.spectrum.width_nm() as f32,
            ..LaunchParams::default()
        };
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
    fn cells_per_dispatch(&self) -> usize {
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

    /// The loss events before `t1` of step `step` of sweep point `point` on the
    /// platelets of `cells`; returns each listed cell's [`CellDecay`], in order.
    pub fn decay(&self, point: u32, step: u32, t1: f64, cells: &[u32]) -> Result<Vec<CellDecay>> {
        let gpu = self.gpu;
        if let Some(&c) = cells.iter().find(|&&c| c as usize >= self.cells) {
            return Err(Error::Runtime(format!(
                "GPU {}: decay of cell {c} of a film of {}",
                gpu.info.name, self.cells
            )));
        }
        // Each cell's summary as its last dispatch leaves it, and the events of all of
        // them: a cell whose workgroup stopped is dispatched again.
        let mut out = vec![CellDecay::default(); cells.len()];
        let mut todo: Vec<usize> = (0..cells.len()).collect();
        let mut part = 0;
        while !todo.is_empty() {
            let listed: Vec<u32> = todo.iter().map(|&k| cells[k]).collect();
            let done = self.decay_part(point, step, part, t1, &listed)?;
            let mut again = Vec::new();
            for (&k, d) in todo.iter().zip(done) {
                let (nonradiative, auger) =
                    (out[k].nonradiative + d.nonradiative, out[k].auger + d.auger);
                out[k] = CellDecay {
                    nonradiative,
                    auger,
                    ..d
                };
                if d.stopped != 0 {
                    again.push(k);
                }
            }
            todo = again;
            part += 1;
        }
        Ok(out)
    }

    /// One dispatch of the loss events (its `part`-th): see `decay`.
    fn decay_part(
        &self,
        point: u32,
        step: u32,
        part: u32,
        t1: f64,
        cells: &[u32],
    ) -> Result<Vec<CellDecay>> {
        let gpu = self.gpu;
        let per_dispatch = self.cells_per_dispatch();
        let mut out = Vec::with_capacity(cells.len());
        for batch in cells.chunks(per_dispatch) {
            gpu.write(&self.dispatched, bytemuck::cast_slice(batch));
            let params = DecayParams {
                point,
                step,
                count: batch.len() as u32,
                part,
                t1: t1 as f32,
                ..self.params
            };
            let uniform = gpu.uniform("platelet decay params", &params);
            let dispatch = Dispatch {
                pipeline: &self.decay_pipeline,
                buffers: &[
                    &uniform,
                    &self.counts,
                    &self.next,
                    &self.dispatched,
                    &self.decayed,
                ],
                textures: &[],
                workgroups: gpu.grid(batch.len() as u32),
            };
            let size = (batch.len() * std::mem::size_of::<CellDecay>()) as u64;
            gpu.run_then_read(
                "platelet decay",
                &dispatch,
                &[(&self.decayed, &self.decayed_back, size)],
                |bytes| out.extend_from_slice(bytemuck::cast_slice::<u8, CellDecay>(bytes[0])),
            )?;
        }
        Ok(out)
    }

    /// Draw the spontaneous-emission packets of step `step` of sweep point `point`:
    /// `launches` lists (cell, packets, sampled excitons its platelets hold). Returns
    /// the packets cell by cell, in the order listed.
    pub fn launch(
        &mut self,
        point: u32,
        step: u32,
        launches: &[(u32, u32, u64)],
    ) -> Result<Vec<Launched>> {
        let gpu = self.gpu;
        let mut entries = Vec::new();
        let mut total = 0u32;
        for &(cell, packets, excitons) in launches {
            if cell as usize >= self.cells || excitons > u64::from(u32::MAX) {
                return Err(Error::Runtime(format!(
                    "GPU {}: a launch from cell {cell} (of {}) holding {excitons} excitons",
                    gpu.info.name, self.cells
                )));
            }
            for k0 in (0..packets).step_by(LAUNCH_GROUP as usize) {
                let n = (packets - k0).min(LAUNCH_GROUP);
                entries.push(LaunchEntry {
                    cell,
                    k0,
                    packets: n,
                    excitons: excitons as u32,
                    out: total,
                    ..LaunchEntry::default()
                });
                total += n;
            }
        }
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let entry_bytes = std::mem::size_of_val(entries.as_slice()) as u64;
        if self
            .launch_entries
            .as_ref()
            .is_none_or(|b| b.size() < entry_bytes)
        {
            self.launch_entries =
                Some(gpu.input("launch entries", entry_bytes.next_power_of_two()));
        }
        let out_bytes = u64::from(total) * std::mem::size_of::<Launched>() as u64;
        if self
            .launched
            .as_ref()
            .is_none_or(|(b, _)| b.size() < out_bytes)
        {
            let size = out_bytes.next_power_of_two();
            self.launched = Some((
                gpu.storage("launched packets", size),
                gpu.readback("launched packets read-back", size),
            ));
        }
        let (Some(entries_buffer), Some((launched, launched_back))) =
            (&self.launch_entries, &self.launched)
        else {
            unreachable!("made above");
        };
        gpu.write(entries_buffer, bytemuck::cast_slice(&entries));
        let params = LaunchParams {
            point,
            step,
            count: entries.len() as u32,
            ..self.launch
        };
        let uniform = gpu.uniform("spontaneous emission params", &params);
        let dispatch = Dispatch {
            pipeline: &self.launch_pipeline,
            buffers: &[
                &uniform,
                &self.counts,
                &self.energy,
                entries_buffer,
                launched,
            ],
            textures: &[],
            workgroups: gpu.grid(entries.len() as u32),
        };
        gpu.run_then_read(
            "spontaneous emission",
            &dispatch,
            &[(launched, launched_back, out_bytes)],
            |bytes| bytemuck::cast_slice::<u8, Launched>(bytes[0]).to_vec(),
        )
    }

    /// Book `orders` at time `t_now` of step `step` of sweep point `point`, on streams of
    /// `purpose` ([`Purpose::Exchange`] or [`Purpose::Radiative`]): the k-th of `cells`
    /// has `orders[first[k]..first[k + 1]]`, booked in order. Returns each listed cell's
    /// [`CellBooked`], in order, and each order's excitons that could not be moved
    /// (every platelet's weight zero).
    #[allow(clippy::too_many_arguments)]
    pub fn book(
        &self,
        purpose: Purpose,
        point: u32,
        step: u32,
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[GpuOrder],
    ) -> Result<(Vec<CellBooked>, Vec<u32>)> {
        let gpu = self.gpu;
        let fault = |what: String| {
            Err(Error::Runtime(format!(
                "GPU {}: booking: {what}",
                gpu.info.name
            )))
        };
        if first.len() != cells.len() + 1 || first.last() != Some(&(orders.len() as u32)) {
            return fault(format!(
                "{} cells, {} order bounds, {} orders",
                cells.len(),
                first.len(),
                orders.len()
            ));
        }
        if orders.len() > self.orders_capacity || cells.len() > self.cells {
            return fault(format!(
                "{} orders on {} cells, more than the {} it holds",
                orders.len(),
                cells.len(),
                self.orders_capacity
            ));
        }
        // Each cell's summary and moves, and each order's excitons left, as the
        // dispatches book them; a workgroup that stops leaves the rest of its cell's
        // orders to the next dispatch.
        let mut booked: Vec<CellBooked> = vec![CellBooked::default(); cells.len()];
        let mut left: Vec<u32> = orders.iter().map(|o| o.count).collect();
        // What is still to book: (index among `cells`, the cell's first order not done).
        let mut todo: Vec<(usize, usize)> =
            (0..cells.len()).map(|k| (k, first[k] as usize)).collect();
        let mut part = 0;
        while !todo.is_empty() {
            let listed: Vec<u32> = todo.iter().map(|&(k, _)| cells[k]).collect();
            let mut part_first = vec![0u32];
            let mut part_orders = Vec::new();
            for &(k, from) in &todo {
                part_orders.extend((from..first[k + 1] as usize).map(|o| GpuOrder {
                    count: left[o],
                    ..orders[o]
                }));
                part_first.push(part_orders.len() as u32);
            }
            let (done, part_left) = self.book_part(
                purpose,
                (point, step, part),
                t_now,
                &listed,
                &part_first,
                &part_orders,
            )?;
            let mut next = Vec::new();
            for ((&(k, from), d), bounds) in todo.iter().zip(&done).zip(part_first.windows(2)) {
                // The orders booked or begun; those not begun keep their counts.
                let own = &part_left[bounds[0] as usize..bounds[1] as usize];
                let begun = if d.stopped == 0 {
                    own.len()
                } else {
                    d.stopped as usize
                };
                left[from..from + begun].copy_from_slice(&own[..begun]);
                let moved = booked[k].moved + d.moved;
                booked[k] = CellBooked { moved, ..*d };
                if d.stopped != 0 {
                    next.push((k, from + d.stopped as usize - 1));
                }
            }
            todo = next;
            part += 1;
        }
        // Every cell's last dispatch booked the rest of its orders: `stopped` is 0.
        Ok((booked, left))
    }

    /// The `part`-th dispatches of a booking (see `book`): the k-th of `cells` has
    /// `orders[first[k]..first[k + 1]]`. As many cells at a time as hold
    /// [`MAX_PLATELETS`] platelets (at least one), as the loss events are dispatched.
    /// Returns each cell's [`CellBooked`] and each order's excitons left, in order.
    #[allow(clippy::too_many_arguments)]
    fn book_part(
        &self,
        purpose: Purpose,
        (point, step, part): (u32, u32, u32),
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[GpuOrder],
    ) -> Result<(Vec<CellBooked>, Vec<u32>)> {
        let gpu = self.gpu;
        let per_dispatch = self.cells_per_dispatch();
        let (mut booked, mut left) = (Vec::with_capacity(cells.len()), Vec::new());
        for (b, batch) in cells.chunks(per_dispatch).enumerate() {
            let k0 = b * per_dispatch;
            let bounds = &first[k0..=k0 + batch.len()];
            let own = &orders[bounds[0] as usize..bounds[batch.len()] as usize];
            let starts: Vec<u32> = bounds.iter().map(|&f| f - bounds[0]).collect();
            gpu.write(&self.dispatched, bytemuck::cast_slice(batch));
            gpu.write(&self.first, bytemuck::cast_slice(&starts));
            gpu.write(&self.orders, bytemuck::cast_slice(own));
            let params = BookingParams {
                point,
                step,
                count: batch.len() as u32,
                purpose: purpose as u32,
                t_now: t_now as f32,
                part,
                ..self.booking
            };
            let uniform = gpu.uniform("platelet booking params", &params);
            let dispatch = Dispatch {
                pipeline: &self.booking_pipeline,
                buffers: &[
                    &uniform,
                    &self.counts,
                    &self.next,
                    &self.energy,
                    &self.dispatched,
                    &self.first,
                    &self.orders,
                    &self.left,
                    &self.booked,
                ],
                textures: &[],
                workgroups: gpu.grid(batch.len() as u32),
            };
            let size = (batch.len() * std::mem::size_of::<CellBooked>()) as u64;
            gpu.run_then_read(
                "platelet booking",
                &dispatch,
                &[
                    (&self.booked, &self.booked_back, size),
                    (&self.left, &self.left_back, 4 * own.len() as u64),
                ],
                |bytes| {
                    booked.extend_from_slice(bytemuck::cast_slice::<u8, CellBooked>(bytes[0]));
                    left.extend_from_slice(bytemuck::cast_slice::<u8, u32>(bytes[1]));
                },
            )?;
        }
        Ok((booked, left))
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

    /// Every platelet's exciton count and next loss event time (ps), as the device
    /// holds them.
    pub fn read(&self) -> Result<(Vec<u32>, Vec<f32>)> {
        let size = 4 * (self.cells * self.samples) as u64;
        self.gpu.read(
            "reading the platelets",
            &[
                (&self.counts, &self.counts_back, size),
                (&self.next, &self.next_back, size),
            ],
            |bytes| {
                (
                    bytemuck::cast_slice(bytes[0]).to_vec(),
                    bytemuck::cast_slice(bytes[1]).to_vec(),
                )
            },
        )
    }
}

/// A cell's summary from what the device returned.
fn summary(excitons: u32, room: u32, next: f32) -> CellSummary {
    CellSummary {
        excitons: u64::from(excitons),
        room: u64::from(room),
        next_ps: f64::from(next),
    }
}

/// A cell's loss events in a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    pub nonradiative: u64,
    pub auger: u64,
}

/// What a booking did: what each listed cell then holds and the excitons its orders
/// moved, and each order's excitons that could not be moved.
pub type Booked = (Vec<(CellSummary, u64)>, Vec<u32>);

/// The device's work in the host's terms: cell summaries, loss counts and draws.
impl GpuPlatelets<'_> {
    /// The loss events before `t1` of step `step` of sweep point `point` on the
    /// platelets of `cells`: what each cell then holds, and its events.
    pub fn decay_summaries(
        &mut self,
        point: u32,
        step: u32,
        t1: f64,
        cells: &[u32],
    ) -> Result<Vec<(CellSummary, Losses)>> {
        Ok(GpuPlatelets::decay(self, point, step, t1, cells)?
            .into_iter()
            .map(|d| {
                let losses = Losses {
                    nonradiative: u64::from(d.nonradiative),
                    auger: u64::from(d.auger),
                };
                (summary(d.excitons, d.room, d.next), losses)
            })
            .collect())
    }

    /// Book `orders` at `t_now` on streams of `purpose` of (point, step): the k-th of
    /// `cells` has `orders[first[k]..first[k + 1]]`, booked in order. Returns what each
    /// cell then holds and the excitons its orders moved, and each order's excitons
    /// that could not be moved.
    #[allow(clippy::too_many_arguments)]
    pub fn book_summaries(
        &mut self,
        purpose: Purpose,
        (point, step): (u32, u32),
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[Order],
    ) -> Result<Booked> {
        let orders: Vec<GpuOrder> = orders
            .iter()
            .map(|o| GpuOrder::new(o, self.mean_ev))
            .collect();
        let (booked, left) =
            GpuPlatelets::book(self, purpose, point, step, t_now, cells, first, &orders)?;
        let booked = booked
            .into_iter()
            .map(|b| (summary(b.excitons, b.room, b.next), u64::from(b.moved)))
            .collect();
        Ok((booked, left))
    }

    /// Draw the spontaneous-emission packets of step `step` of sweep point `point` as
    /// `spontaneous::launch` draws them: `launches` lists (cell, packets, the sampled
    /// excitons its platelets hold). Returns each cell's draws, in the order listed.
    pub fn draws(
        &mut self,
        (point, step): (u32, u32),
        launches: &[(u32, u32, u64)],
    ) -> Result<Vec<Draw>> {
        // Each packet's cell's first platelet, in the order drawn.
        let samples = self.samples;
        let firsts = launches.iter().flat_map(|&(c, packets, _)| {
            std::iter::repeat_n(c as usize * samples, packets as usize)
        });
        let dir = |d: [f32; 4]| [d[0], d[1], d[2]].map(f64::from);
        Ok(GpuPlatelets::launch(self, point, step, launches)?
            .into_iter()
            .zip(firsts)
            .map(|(l, first)| Draw {
                platelet: (l.platelet != NOTHING).then(|| l.platelet as usize - first),
                bin: (l.bin != NOTHING).then_some(l.bin),
                time_fraction: f64::from(l.time),
                dirs: [dir(l.dir_a), dir(l.dir_b)],
            })
            .collect())
    }
}
