//! The time loop of the ASE engine on the CPU. Each step of length dt:
//! 1. spontaneous emission (the cells' expected emission launched as packets, its
//!    excitons booked against the platelets, see `spontaneous.rs`) and the loss events
//!    (non-radiative and Auger: exact continuous-time events within the step),
//! 2. (the cells' gain spectra follow every change of an exciton count: on the host
//!    as it happens, or on the device that keeps them before the packets move and
//!    before a snapshot),
//! 3. photon transport with gain and exchange bookkeeping,
//! 4. booking the exchange against the platelets,
//! 5. snapshots of populations and gain.
//!
//! Cells are processed in parallel and packets in fixed chunks; all results are merged
//! in cell and chunk order, so a run is the same on any number of threads.

use rayon::prelude::*;

use super::exchange::{Moved, Order, OrderKind, apply_cell};
use super::kinetics::Loss;
use super::photons::{AsePacket, Exchange, Fate, StepOutput, StepView, advance};
use super::platelets::{Film, GainFollower, LoggedChange, Platelet, loss_events};
use super::setup::AseSetup;
use super::spontaneous::{self, Draw};
use super::tally::{ExitTally, Ledger};
use crate::error::{Error, Result};
use crate::rng::{Purpose, Stream};

/// Packets per chunk of parallel transport.
const PACKET_CHUNK: usize = 256;

/// Steps between exact recomputations of the cells' gain spectra (clears the rounding
/// drift of incremental updates).
const GAIN_REFRESH_STEPS: u32 = 512;

/// Everything one point produced.
pub struct AseOutput {
    pub ledger: Ledger,
    pub tally: ExitTally,
    /// Times of the snapshots, ps.
    pub snapshot_ps: Vec<f64>,
    /// Snapshots × (n_max + 1): fraction of the stripe's platelets holding n excitons.
    pub populations: Vec<Vec<f64>>,
    /// Snapshots × bins: net material gain at the stripe centre, cm⁻¹.
    pub gain: Vec<Vec<f64>>,
    pub mean_excitons_initial: f64,
    pub packets: u64,
    pub photon_segments: u64,
    /// Wall time spent moving packets (the transport's share of the run), s.
    pub transport_s: f64,
    pub platelet_steps: u64,
    pub platelets: usize,
    /// Time steps taken (more than duration/dt where the step was shortened).
    pub steps: u64,
}

/// What the engine keeps of a cell between steps, so that a step visits the platelets
/// of a cell only where something happens to them: the sampled excitons they hold, their
/// room for more (Σ max(0, g_d − n)), and a time no later than the earliest of their
/// next loss events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellSummary {
    pub excitons: u64,
    pub room: u64,
    pub next_ps: f64,
}

impl CellSummary {
    fn of(setup: &AseSetup, platelets: &[Platelet]) -> Self {
        let g_d = setup.optics.degeneracy;
        Self {
            excitons: platelets.iter().map(|p| u64::from(p.n)).sum(),
            room: platelets
                .iter()
                .map(|p| u64::from(g_d.saturating_sub(p.n)))
                .sum(),
            next_ps: platelets
                .iter()
                .map(|p| p.next_ps)
                .fold(f64::INFINITY, f64::min),
        }
    }

    /// Whether the summary is that of `platelets`: the same totals, and a time no
    /// later than their earliest loss event.
    fn holds_for(&self, setup: &AseSetup, platelets: &[Platelet]) -> bool {
        let now = Self::of(setup, platelets);
        (self.excitons, self.room) == (now.excitons, now.room) && self.next_ps <= now.next_ps
    }

    /// Take in what a booking did to the cell's platelets.
    fn add(&mut self, moved: Moved) {
        self.excitons = self
            .excitons
            .checked_add_signed(moved.excitons)
            .expect("a cell's excitons stay positive");
        self.room = self
            .room
            .checked_add_signed(moved.room)
            .expect("a cell's room stays positive");
        self.next_ps = self.next_ps.min(moved.earliest_ps);
    }
}

/// Fractions of the stripe's platelets by exciton count (index n).
fn populations(setup: &AseSetup, film: &Film) -> Vec<f64> {
    let mut counts: Vec<f64> = Vec::new();
    let mut total = 0.0f64;
    for p in &film.platelets {
        if setup.pump.contains(p.pos) {
            let n = p.n as usize;
            if counts.len() <= n {
                counts.resize(n + 1, 0.0);
            }
            counts[n] += 1.0;
            total += 1.0;
        }
    }
    counts.iter().map(|c| c / total.max(1.0)).collect()
}

/// Net material gain (stimulated − absorbed), cm⁻¹, averaged over the cells through
/// the depth at the stripe centre.
fn centre_gain(setup: &AseSetup, film: &Film) -> Vec<f64> {
    let bins = setup.spectrum.bins;
    let [xc, yc] = setup.pump.centre();
    let mut g = vec![0.0; bins];
    let nz = setup.grid.nz;
    for iz in 0..nz {
        let [ix, iy, _] = setup.grid.coords([xc, yc, 0.0]);
        let c = setup.grid.index([ix, iy, iz]);
        for (b, gb) in g.iter_mut().enumerate() {
            *gb += (film.stim[c * bins + b] - film.abs[c * bins + b]) / nz as f64;
        }
    }
    g
}

/// Limit what the step's packets exchanged with each cell to what its platelets
/// can give (excitons held, less stimulated emission not yet booked) and take
/// (room below g_d, less absorption not yet booked). Where the packets asked for more,
/// every exchange with the cell is scaled down and the packets' weights (or, for
/// packets that already left, their exit tallies) corrected, so photons and excitons
/// balance exactly; the rest is added to the pending exchange.
#[allow(clippy::too_many_arguments)]
fn settle_exchange(
    setup: &AseSetup,
    summaries: &[CellSummary],
    cell_excitons: &[f64],
    exchange: &[Exchange],
    packets: &mut [AsePacket],
    pending_s: &mut [f64],
    pending_a: &mut [f64],
    tally: &mut ExitTally,
    ledger: &mut Ledger,
) -> f64 {
    let bins = setup.spectrum.bins;
    let w = setup.platelet_weight;
    let cells = setup.grid.cells();
    let mut demand_s = vec![0.0; cells];
    let mut demand_a = vec![0.0; cells];
    for e in exchange {
        let c = e.cell_bin as usize / bins;
        demand_s[c] += e.stimulated;
        demand_a[c] += e.absorbed;
    }
    let factor = |demand: f64, supply: f64| {
        if demand > supply {
            (supply / demand).max(0.0)
        } else {
            1.0
        }
    };
    let mut k_s = vec![1.0; cells];
    let mut k_a = vec![1.0; cells];
    let mut load = 0.0f64;
    for c in 0..cells {
        if demand_s[c] > 0.0 {
            let owed: f64 = pending_s[c * bins..(c + 1) * bins].iter().sum();
            let supply = cell_excitons[c] - owed;
            load = load.max(demand_s[c] / supply.max(w));
            k_s[c] = factor(demand_s[c], supply);
        }
        if demand_a[c] > 0.0 {
            let room = summaries[c].room as f64 * w;
            let owed: f64 = pending_a[c * bins..(c + 1) * bins].iter().sum();
            load = load.max(demand_a[c] / (room - owed).max(w));
            k_a[c] = factor(demand_a[c], room - owed);
        }
    }
    // A packet's entries are contiguous, one per cell, in the order it met the cells.
    for run in exchange.chunk_by(|a, b| a.packet == b.packet) {
        let mut entries: Vec<(usize, f64, f64)> = run
            .iter()
            .map(|e| {
                let cb = e.cell_bin as usize;
                (
                    cb,
                    k_s[cb / bins] * e.stimulated,
                    k_a[cb / bins] * e.absorbed,
                )
            })
            .collect();
        let cut_s: f64 = run
            .iter()
            .zip(&entries)
            .map(|(e, x)| e.stimulated - x.1)
            .sum();
        let cut_a: f64 = run
            .iter()
            .zip(&entries)
            .map(|(e, x)| e.absorbed - x.2)
            .sum();
        if cut_s != 0.0 || cut_a != 0.0 {
            ledger.stimulated -= cut_s;
            ledger.absorbed -= cut_a;
            let delta = cut_a - cut_s;
            let p = &mut packets[run[0].packet as usize];
            match p.fate {
                Fate::Alive => {
                    p.weight += delta;
                    // Photons the packet lost the gain of cannot have been absorbed
                    // further along its path: take them back from the cells it met last.
                    for x in entries.iter_mut().rev() {
                        if p.weight >= 0.0 {
                            break;
                        }
                        let back = x.2.min(-p.weight);
                        x.2 -= back;
                        ledger.absorbed -= back;
                        p.weight += back;
                    }
                    if p.weight < 0.0 {
                        ledger.clamped -= p.weight;
                        p.weight = 0.0;
                    }
                }
                Fate::Exited(exit) => {
                    tally.add(exit, p.bin as usize, p.time_ps, delta);
                    ledger.exits[exit as usize] += delta;
                }
                Fate::Killed => ledger.roulette_net -= delta,
            }
        }
        for (cb, stimulated, absorbed) in entries {
            pending_s[cb] += stimulated;
            pending_a[cb] += absorbed;
        }
    }
    load
}

/// The cells whose platelets may have changed on the device since the host's copy of
/// their counts (`counts`) and since the device's gain spectra (`gain`) last followed
/// them.
struct Stale {
    counts: Vec<bool>,
    gain: Vec<bool>,
}

impl Stale {
    fn new(cells: usize) -> Self {
        Self {
            counts: vec![false; cells],
            gain: vec![false; cells],
        }
    }

    fn mark(&mut self, c: usize) {
        self.counts[c] = true;
        self.gain[c] = true;
    }

    /// The cells marked in `flags`, which are cleared.
    fn take(flags: &mut [bool]) -> Vec<u32> {
        let cells = (0..flags.len() as u32)
            .filter(|&c| flags[c as usize])
            .collect();
        flags.fill(false);
        cells
    }
}

/// Bring the film's counts of the cells marked stale up to those the device holds.
fn sync_counts(
    device: &mut dyn DevicePlatelets,
    s: usize,
    stale: &mut Stale,
    film: &mut Film,
) -> Result<()> {
    let cells = Stale::take(&mut stale.counts);
    if cells.is_empty() {
        return Ok(());
    }
    let counts = device.counts(&cells)?;
    for (&c, now) in cells.iter().zip(counts.chunks(s)) {
        let c = c as usize;
        for (p, &n) in film.platelets[c * s..(c + 1) * s].iter_mut().zip(now) {
            p.n = n;
        }
    }
    Ok(())
}

/// Bring the device's gain spectra of the cells marked stale up to the device's counts.
fn follow_counts(gain: &mut dyn DeviceGain, stale: &mut Stale) -> Result<()> {
    gain.follow(&Stale::take(&mut stale.gain))
}

/// Book `orders` (the k-th of `cells` has `orders[first[k]..first[k + 1]]`) on the
/// device: each cell's summary becomes what it then holds, and cells whose platelets
/// moved are marked stale. Returns each order's excitons that could not be moved.
#[allow(clippy::too_many_arguments)]
fn book_on_device(
    device: &mut dyn DevicePlatelets,
    purpose: Purpose,
    point_step: (u32, u32),
    t_now: f64,
    (cells, first, orders): (&[u32], &[u32], &[Order]),
    summaries: &mut [CellSummary],
    stale: &mut Stale,
) -> Result<Vec<u32>> {
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    let (booked, left) = device.book(purpose, point_step, t_now, cells, first, orders)?;
    for (&c, (held, moved)) in cells.iter().zip(booked) {
        summaries[c as usize] = held;
        if moved > 0 {
            stale.mark(c as usize);
        }
    }
    Ok(left)
}

/// Step 1 on a device: the loss events of the cells where one falls due, and the
/// whole sampled excitons of each cell's pending radiative decay (less the `emission`
/// just launched) booked as `spontaneous::book_radiative` books them.
#[allow(clippy::too_many_arguments)]
fn losses_and_radiative_on_device(
    device: &mut dyn DevicePlatelets,
    setup: &AseSetup,
    (point, step): (u32, u32),
    t1: f64,
    emission: &[f64],
    summaries: &mut [CellSummary],
    pending_r: &mut [f64],
    stale: &mut Stale,
    ledger: &mut Ledger,
) -> Result<()> {
    let w = setup.platelet_weight;
    let due: Vec<u32> = (0..summaries.len() as u32)
        .filter(|&c| summaries[c as usize].next_ps < t1)
        .collect();
    if !due.is_empty() {
        for (&c, (held, losses)) in due.iter().zip(device.decay(point, step, t1, &due)?) {
            let c = c as usize;
            summaries[c] = held;
            ledger.nonradiative += losses.nonradiative as f64 * w;
            ledger.auger += losses.auger as f64 * w;
            if losses.nonradiative + losses.auger > 0 {
                stale.mark(c);
            }
        }
    }
    let (mut cells, mut first, mut orders) = (Vec::new(), vec![0], Vec::new());
    for (c, (pending, e)) in pending_r.iter_mut().zip(emission).enumerate() {
        *pending += e;
        let whole = (*pending / w).floor();
        if whole >= 1.0 {
            cells.push(c as u32);
            orders.push(Order {
                kind: OrderKind::Radiative,
                energy_ev: 0.0,
                count: whole.min(f64::from(u32::MAX)) as u32,
            });
            first.push(orders.len() as u32);
        }
    }
    let left = book_on_device(
        device,
        Purpose::Radiative,
        (point, step),
        t1,
        (&cells, &first, &orders),
        summaries,
        stale,
    )?;
    for ((&c, order), left) in cells.iter().zip(&orders).zip(left) {
        pending_r[c as usize] -= f64::from(order.count - left) * w;
    }
    Ok(())
}

/// Step 4 on a device: each cell's pending exchange booked as whole sampled excitons,
/// bin by bin, as [`apply_cell`] books it, the sub-exciton remainders left pending.
#[allow(clippy::too_many_arguments)]
fn exchange_on_device(
    device: &mut dyn DevicePlatelets,
    setup: &AseSetup,
    point_step: (u32, u32),
    t1: f64,
    pending_s: &mut [f64],
    pending_a: &mut [f64],
    summaries: &mut [CellSummary],
    stale: &mut Stale,
    ledger: &mut Ledger,
) -> Result<()> {
    let w = setup.platelet_weight;
    let bins = setup.spectrum.bins;
    let (mut cells, mut first, mut orders) = (Vec::new(), vec![0], Vec::new());
    for (c, (ps, pa)) in pending_s
        .chunks_mut(bins)
        .zip(pending_a.chunks_mut(bins))
        .enumerate()
    {
        let start = orders.len();
        for (b, (s, a)) in ps.iter_mut().zip(pa.iter_mut()).enumerate() {
            for (pending, kind) in [(s, OrderKind::Stimulated), (a, OrderKind::Absorbed)] {
                let whole = (*pending / w).floor();
                if whole < 1.0 {
                    continue;
                }
                *pending -= whole * w;
                orders.push(Order {
                    kind,
                    energy_ev: setup.spectrum.energy_ev[b],
                    count: whole.min(f64::from(u32::MAX)) as u32,
                });
            }
        }
        if orders.len() > start {
            cells.push(c as u32);
            first.push(orders.len() as u32);
        }
    }
    let left = book_on_device(
        device,
        Purpose::Exchange,
        point_step,
        t1,
        (&cells, &first, &orders),
        summaries,
        stale,
    )?;
    for (order, left) in orders.iter().zip(left) {
        let unbooked = f64::from(left) * w;
        match order.kind {
            OrderKind::Stimulated => ledger.unbooked_stimulated += unbooked,
            _ => ledger.unbooked_absorbed += unbooked,
        }
    }
    Ok(())
}

/// The shortest step, as a fraction of the configured one.
const MIN_STEP_FRACTION: f64 = 1.0 / 16.0;

/// The next step length. `load` is the largest share of a cell's excitons (or of its
/// room for more) that the last step's photons asked for; `limit` is
/// `run.max_exchange_fraction`. Above the limit the step is halved (cut 8× far above
/// it), below a quarter of it the step doubles back towards the configured one.
fn next_time_step(dt: f64, dt_max: f64, load: f64, limit: f64) -> f64 {
    let dt = if load > 4.0 * limit {
        dt / 8.0
    } else if load > limit {
        dt / 2.0
    } else if load < 0.25 * limit {
        dt * 2.0
    } else {
        dt
    };
    dt.clamp(dt_max * MIN_STEP_FRACTION, dt_max)
}

/// The cells' gain spectra kept on a device (`gpu::gain::GpuGain`) instead of in the
/// host's [`Film`]: the device follows the platelets' counts as the engine reports
/// them, or, where the platelets are kept on the device too, as it finds them there;
/// the host's copy is brought up to date only to be read (snapshots).
pub trait DeviceGain {
    /// Take a newly sampled film: its platelets' energies and counts.
    fn load(&mut self, setup: &AseSetup, film: &Film) -> Result<()>;
    /// Recompute the spectra from every platelet's count.
    fn recompute(&mut self, film: &Film) -> Result<()>;
    /// The counts changed as `logs` say (one per cell: every change of a platelet's
    /// count since the last update, in order, each with the count before it); the
    /// film holds the counts now. Empties the logs.
    fn update(&mut self, film: &Film, logs: &mut [Vec<LoggedChange>]) -> Result<()>;
    /// Copy the spectra into the film's `stim` and `abs`.
    fn read(&mut self, film: &mut Film) -> Result<()>;
    /// With the platelets kept on the device too: bring the spectra of `cells` (those
    /// whose counts may have changed since) up to the device's counts.
    fn follow(&mut self, cells: &[u32]) -> Result<()>;
    /// With the platelets kept on the device too: recompute the spectra from every
    /// count there.
    fn recompute_on_device(&mut self) -> Result<()>;
}

/// A cell's loss events in a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    pub nonradiative: u64,
    pub auger: u64,
}

/// What a device's booking did: what each listed cell then holds and the excitons its
/// orders moved, and each order's excitons that could not be moved.
pub type Booked = (Vec<(CellSummary, u64)>, Vec<u32>);

/// The platelets kept on a device (`gpu::platelets::GpuPlatelets`), which alone changes
/// them: their loss events and the booking of whole excitons against them run there,
/// and spontaneous emission's packets are drawn there (the host starts them at their
/// platelets' positions, which it alone keeps). The host's [`Film`] keeps a copy of
/// their counts, brought up to date from the device for the cells that changed before
/// it is read (snapshots, and the run's end); its next loss times are the sampled
/// ones. Comes with a [`DeviceGain`] whose spectra follow the device's counts
/// ([`DeviceGain::follow`]).
pub trait DevicePlatelets {
    /// Take a newly sampled film.
    fn load(&mut self, film: &Film) -> Result<()>;
    /// The loss events before `t1` of step `step` of sweep point `point` on the
    /// platelets of `cells`: what each cell then holds, and its events.
    fn decay(
        &mut self,
        point: u32,
        step: u32,
        t1: f64,
        cells: &[u32],
    ) -> Result<Vec<(CellSummary, Losses)>>;
    /// Book `orders` at `t_now` on streams of `purpose` of (point, step): the k-th of
    /// `cells` has `orders[first[k]..first[k + 1]]`, booked in order. Returns what each
    /// cell then holds and the excitons its orders moved, and each order's excitons
    /// that could not be moved.
    fn book(
        &mut self,
        purpose: Purpose,
        point_step: (u32, u32),
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[Order],
    ) -> Result<Booked>;
    /// The exciton counts of the platelets of `cells`, cell after cell.
    fn counts(&mut self, cells: &[u32]) -> Result<Vec<u32>>;
    /// Draw the spontaneous-emission packets of step `step` of sweep point `point` as
    /// `spontaneous::launch` draws them: `launches` lists (cell, packets, the sampled
    /// excitons its platelets hold). Returns each cell's draws, in the order listed.
    fn launch(&mut self, point_step: (u32, u32), launches: &[(u32, u32, u64)])
    -> Result<Vec<Draw>>;
}

/// Moves a time step's packets through the film: on the CPU ([`CpuTransport`]) or on
/// a GPU (`gpu::ase::GpuTransport`).
pub trait PacketTransport {
    /// Advance `packets` (the list of step `step` of sweep point `point`, in order)
    /// from `t0` to `t1`, adding what left to `tally` and the photons exchanged, lost
    /// and gained to `ledger`. Returns the exchange with the cells (each packet's
    /// entries together, one per cell, in the order it met them), and the path
    /// segments taken. The view's gain spectra are the film's; a transport with
    /// [`PacketTransport::device_gain`] reads its own instead.
    #[allow(clippy::too_many_arguments)]
    fn advance_all(
        &mut self,
        view: &StepView,
        packets: &mut [AsePacket],
        point: u32,
        step: u32,
        t0: f64,
        t1: f64,
        tally: &mut ExitTally,
        ledger: &mut Ledger,
    ) -> Result<(Vec<Exchange>, u64)>;

    /// The gain spectra the transport keeps on its device, if it does (then the host
    /// does not keep the film's up to date).
    fn device_gain(&mut self) -> Option<&mut dyn DeviceGain> {
        None
    }

    /// The platelets the transport keeps on its device, if it does (then the host's
    /// film holds a copy of their counts).
    fn device_platelets(&mut self) -> Option<&mut dyn DevicePlatelets> {
        None
    }
}

/// The transport on the CPU: packets in fixed chunks in parallel, merged in chunk
/// order, so the result is the same on any number of threads.
pub struct CpuTransport;

impl PacketTransport for CpuTransport {
    fn advance_all(
        &mut self,
        view: &StepView,
        packets: &mut [AsePacket],
        point: u32,
        step: u32,
        _t0: f64,
        t1: f64,
        tally: &mut ExitTally,
        ledger: &mut Ledger,
    ) -> Result<(Vec<Exchange>, u64)> {
        let setup = view.setup;
        let outputs: Vec<StepOutput> = packets
            .par_chunks_mut(PACKET_CHUNK)
            .enumerate()
            .map(|(k, chunk)| {
                let mut out = StepOutput::new(setup);
                for (j, p) in chunk.iter_mut().enumerate() {
                    let index = (k * PACKET_CHUNK + j) as u32;
                    advance(view, p, index, (point, step), t1, &mut out);
                }
                out
            })
            .collect();
        let mut exchange = Vec::new();
        let mut segments = 0;
        for out in outputs {
            tally.merge(&out.tally);
            ledger.merge(&out.ledger);
            segments += out.segments;
            exchange.extend(out.exchange);
        }
        Ok((exchange, segments))
    }
}

/// Run one point with the CPU transport.
pub fn run(setup: &AseSetup, point: u32, progress: &(dyn Fn(u64) + Sync)) -> AseOutput {
    match run_with(setup, point, &mut CpuTransport, progress) {
        Ok(out) => out,
        Err(e) => unreachable!("the CPU transport does not fail: {e}"),
    }
}

/// Run one point, moving the packets with `transport`.
pub fn run_with(
    setup: &AseSetup,
    point: u32,
    transport: &mut dyn PacketTransport,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AseOutput> {
    let s = setup.samples_per_cell;
    let bins = setup.spectrum.bins;
    let cells = setup.grid.cells();
    let w = setup.platelet_weight;
    let scale = Film::gain_scale(setup);
    let mut film = Film::sample(setup, point);
    // Whether the host keeps the gain spectra up to date as the counts change.
    let host_gain = match transport.device_gain() {
        Some(g) => {
            g.load(setup, &film)?;
            g.read(&mut film)?;
            false
        }
        None => true,
    };
    // Whether the platelets live on the device (the film then keeps a copy of their
    // counts, brought up to date for the cells marked stale before it is read, and the
    // device's gain spectra follow the device's counts).
    let on_device = match transport.device_platelets() {
        Some(d) if !host_gain => {
            d.load(&film)?;
            true
        }
        Some(_) => {
            return Err(Error::Runtime(
                "platelets kept on a device need their gain spectra kept there too".into(),
            ));
        }
        None => false,
    };
    let mut stale = Stale::new(cells);
    // Whether the photons' exchange is booked against the platelets.
    let exchanges = setup.coupled && !setup.frozen;

    let mut ledger = Ledger {
        pump_excitons: film.platelets.iter().map(|p| f64::from(p.n)).sum::<f64>() * w,
        ..Ledger::default()
    };

    let mut tally = ExitTally::new(bins, setup.time_bins, setup.duration_ps);
    let snapshot_every = setup.duration_ps / setup.time_bins as f64;
    let mut snapshot_ps = vec![0.0];
    let mut pops = vec![populations(setup, &film)];
    let mean_excitons_initial: f64 = pops[0].iter().enumerate().map(|(n, f)| n as f64 * f).sum();
    let mut gains = vec![centre_gain(setup, &film)];

    let mut packets: Vec<AsePacket> = Vec::new();
    let mut next_id: u32 = 0;
    let mut pending_s = vec![0.0; cells * bins];
    let mut pending_a = vec![0.0; cells * bins];
    // Photons emitted spontaneously whose excitons are not yet removed, per cell.
    let mut pending_r = vec![0.0; cells];
    let mut photon_segments = 0u64;
    let mut transport_s = 0.0;

    // Each cell's count changes since a device keeping the gain spectra last read them.
    let mut logs: Vec<Vec<LoggedChange>> = vec![Vec::new(); cells];
    let mut summaries: Vec<CellSummary> = film
        .platelets
        .chunks(s)
        .map(|ps| CellSummary::of(setup, ps))
        .collect();
    let mut dt = setup.dt_ps;
    let mut t0 = 0.0;
    let mut step: u32 = 0;
    let mut reported = 0u64;
    let mut steps_taken = 0u64;
    while t0 < setup.duration_ps * (1.0 - 1e-12) {
        let t1 = (t0 + dt).min(setup.duration_ps);
        if step > 0 && step % GAIN_REFRESH_STEPS == 0 {
            match transport.device_gain() {
                Some(g) if on_device => {
                    g.recompute_on_device()?;
                    stale.gain.fill(false);
                }
                Some(g) => {
                    // From every count: the changes logged so far are in it.
                    g.recompute(&film)?;
                    logs.iter_mut().for_each(Vec::clear);
                }
                None => film.recompute_gain(setup),
            }
        }

        // 1. Spontaneous emission and the loss events, cell by cell.
        let emission: Vec<f64> = summaries
            .iter()
            .map(|c| spontaneous::cell_emission(setup, c.excitons, t1 - t0))
            .collect();
        let total_emission: f64 = emission.iter().sum();
        // As many packets per unit time however the step is cut.
        let count = (f64::from(setup.packets_per_step) * (t1 - t0) / setup.dt_ps)
            .round()
            .max(1.0);
        let comb = Stream::new(setup.seed, Purpose::Spontaneous, point, step, u32::MAX).uniform();
        let launched = spontaneous::allocate(&emission, count as u32, comb);
        let packet_weight = total_emission / count;
        // Platelets on a device: the packets are drawn there, from its counts.
        let mut draws: Vec<Vec<Draw>> = vec![Vec::new(); cells];
        if let Some(d) = transport.device_platelets() {
            let launches: Vec<(u32, u32, u64)> = (0..cells)
                .filter(|&c| launched[c] > 0)
                .map(|c| (c as u32, launched[c], summaries[c].excitons))
                .collect();
            let mut drawn = d.launch((point, step), &launches)?.into_iter();
            for &(c, packets, _) in &launches {
                draws[c as usize] = drawn.by_ref().take(packets as usize).collect();
            }
        }
        // Each cell's new packets, ledger, and the real excitons it then holds.
        let per_cell: Vec<(Vec<AsePacket>, Ledger, f64)> = film
            .platelets
            .par_chunks_mut(s)
            .zip(film.stim.par_chunks_mut(bins))
            .zip(film.abs.par_chunks_mut(bins))
            .zip(pending_r.par_iter_mut())
            .zip(logs.par_iter_mut())
            .zip(summaries.par_iter_mut())
            .zip(draws.par_iter())
            .enumerate()
            .map(
                |(c, ((((((platelets, stim), abs), pending), log), summary), drawn))| {
                    let mut gain = GainFollower::new(host_gain, stim, abs, log);
                    // Real excitons the cell's platelets hold.
                    let held = |summary: &CellSummary| summary.excitons as f64 * w;
                    let mut born = Vec::new();
                    let mut led = Ledger::default();
                    if on_device {
                        for d in drawn {
                            let (weight, span) = (packet_weight, (t0, t1));
                            spontaneous::emit(
                                setup, platelets, d, weight, span, &mut born, &mut led,
                            );
                        }
                    } else {
                        let mut rng =
                            Stream::new(setup.seed, Purpose::Spontaneous, point, step, c as u32);
                        spontaneous::launch(
                            setup,
                            platelets,
                            launched[c],
                            packet_weight,
                            t0,
                            t1,
                            &mut rng,
                            &mut born,
                            &mut led,
                        );
                    }
                    // On a device the loss events and radiative bookings follow.
                    if setup.frozen || on_device {
                        return (born, led, held(summary));
                    }
                    // The loss events within the step: only where one falls due are the
                    // cell's platelets visited, and the earliest next event noted again.
                    if summary.next_ps < t1 {
                        summary.next_ps = loss_events(
                            setup,
                            platelets,
                            c * s,
                            (point, step),
                            t1,
                            |j, loss, before, after| {
                                match loss {
                                    Loss::NonRadiative => led.nonradiative += w,
                                    Loss::Auger => led.auger += w,
                                }
                                summary.excitons -= 1;
                                if after.n < setup.optics.degeneracy {
                                    summary.room += 1;
                                }
                                gain.changed(setup, j, before, after, scale);
                            },
                        );
                    }
                    *pending += emission[c];
                    // Its own stream: how packets are sampled never changes the kinetics.
                    let mut rng =
                        Stream::new(setup.seed, Purpose::Radiative, point, step, c as u32);
                    summary.add(spontaneous::book_radiative(
                        setup, platelets, &mut gain, pending, scale, t1, &mut rng,
                    ));
                    (born, led, held(summary))
                },
            )
            .collect();
        let mut cell_excitons = Vec::with_capacity(cells);
        for (born, led, held) in per_cell {
            ledger.merge(&led);
            cell_excitons.push(held);
            for mut p in born {
                p.id = next_id;
                next_id = next_id.wrapping_add(1);
                packets.push(p);
            }
        }
        if let Some(d) = transport.device_platelets().filter(|_| !setup.frozen) {
            losses_and_radiative_on_device(
                d,
                setup,
                (point, step),
                t1,
                &emission,
                &mut summaries,
                &mut pending_r,
                &mut stale,
                &mut ledger,
            )?;
            cell_excitons = summaries.iter().map(|c| c.excitons as f64 * w).collect();
        }

        // 3. Transport with gain, in fixed chunks.
        let view = StepView {
            setup,
            stim: &film.stim,
            abs: &film.abs,
            cell_excitons: &cell_excitons,
        };
        // The device's spectra follow the counts so far, as the host's do.
        match transport.device_gain() {
            Some(g) if on_device => follow_counts(g, &mut stale)?,
            Some(g) => g.update(&film, &mut logs)?,
            None => {}
        }
        let started = std::time::Instant::now();
        let (exchange, segments) = transport.advance_all(
            &view,
            &mut packets,
            point,
            step,
            t0,
            t1,
            &mut tally,
            &mut ledger,
        )?;
        transport_s += started.elapsed().as_secs_f64();
        photon_segments += segments;
        if exchanges {
            let load = settle_exchange(
                setup,
                &summaries,
                &cell_excitons,
                &exchange,
                &mut packets,
                &mut pending_s,
                &mut pending_a,
                &mut tally,
                &mut ledger,
            );
            dt = next_time_step(dt, setup.dt_ps, load, setup.max_exchange_fraction);
        }
        packets.retain(|p| p.fate == Fate::Alive);

        // 4. Book the exchange against the platelets.
        if let Some(d) = transport.device_platelets().filter(|_| exchanges) {
            exchange_on_device(
                d,
                setup,
                (point, step),
                t1,
                &mut pending_s,
                &mut pending_a,
                &mut summaries,
                &mut stale,
                &mut ledger,
            )?;
        } else if exchanges {
            let booked: Vec<Ledger> = film
                .platelets
                .par_chunks_mut(s)
                .zip(film.stim.par_chunks_mut(bins))
                .zip(film.abs.par_chunks_mut(bins))
                .zip(pending_s.par_chunks_mut(bins))
                .zip(pending_a.par_chunks_mut(bins))
                .zip(logs.par_iter_mut())
                .zip(summaries.par_iter_mut())
                .enumerate()
                .map(
                    |(c, ((((((platelets, stim), abs), ps), pa), log), summary))| {
                        let mut led = Ledger::default();
                        if ps.iter().chain(pa.iter()).any(|v| *v >= w) {
                            let mut rng =
                                Stream::new(setup.seed, Purpose::Exchange, point, step, c as u32);
                            let moved = apply_cell(
                                setup,
                                platelets,
                                &mut GainFollower::new(host_gain, stim, abs, log),
                                ps,
                                pa,
                                scale,
                                t1,
                                &mut rng,
                                &mut led,
                            );
                            summary.add(moved);
                        }
                        led
                    },
                )
                .collect();
            for led in &booked {
                ledger.merge(led);
            }
        }
        // On a device the summaries are the device's own sums: in debug builds, check
        // them against its counts.
        if cfg!(debug_assertions)
            && let Some(d) = transport.device_platelets()
        {
            let all: Vec<u32> = (0..cells as u32).collect();
            let g_d = setup.optics.degeneracy;
            for (summary, counts) in summaries.iter().zip(d.counts(&all)?.chunks(s)) {
                let excitons: u64 = counts.iter().map(|&n| u64::from(n)).sum();
                let room: u64 = counts
                    .iter()
                    .map(|&n| u64::from(g_d.saturating_sub(n)))
                    .sum();
                assert_eq!(
                    (summary.excitons, summary.room),
                    (excitons, room),
                    "a cell's summary disagrees with the device's platelets at step {step}"
                );
            }
        }
        // Whatever changes a count or a loss time must tell the cell's summary.
        debug_assert!(
            on_device
                || film
                    .platelets
                    .chunks(s)
                    .zip(&summaries)
                    .all(|(ps, kept)| kept.holds_for(setup, ps)),
            "a cell's summary disagrees with its platelets at step {step}"
        );

        // 5. Snapshots.
        while (snapshot_ps.len() as f64) * snapshot_every <= t1 + 1e-9 * setup.dt_ps
            && snapshot_ps.len() < setup.time_bins
        {
            if let Some(d) = transport.device_platelets() {
                sync_counts(d, s, &mut stale, &mut film)?;
            }
            if let Some(g) = transport.device_gain() {
                if on_device {
                    follow_counts(g, &mut stale)?;
                } else {
                    g.update(&film, &mut logs)?;
                }
                g.read(&mut film)?;
            }
            snapshot_ps.push(t1);
            pops.push(populations(setup, &film));
            gains.push(centre_gain(setup, &film));
        }
        steps_taken += 1;
        step += 1;
        t0 = t1;
        let done = (t0 / setup.dt_ps).round() as u64;
        if done > reported {
            progress(done - reported);
            reported = done;
        }
    }

    if let Some(d) = transport.device_platelets() {
        sync_counts(d, s, &mut stale, &mut film)?;
    }
    ledger.in_flight = packets.iter().map(|p| p.weight).sum();
    ledger.excitons_left = film.platelets.iter().map(|p| f64::from(p.n)).sum::<f64>() * w;
    ledger.pending_stimulated = pending_s.iter().sum();
    ledger.pending_absorbed = pending_a.iter().sum();
    ledger.pending_radiative = pending_r.iter().sum();
    Ok(AseOutput {
        ledger,
        tally,
        snapshot_ps,
        populations: pops,
        gain: gains,
        mean_excitons_initial,
        packets: u64::from(next_id),
        photon_segments,
        transport_s,
        platelet_steps: film.platelets.len() as u64 * steps_taken,
        steps: steps_taken,
        platelets: film.platelets.len(),
    })
}
