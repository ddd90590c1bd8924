//! One point of the ASE engine on the GPU: the platelets, their counts and loss times,
//! the cells' gain spectra and the tallies' sums live on the device
//! ([`GpuPlatelets`], [`GpuGain`], [`GpuTransport`]); each stage of [`Stages`] runs its
//! kernels there. The host keeps the books: the packets between steps (it starts the
//! device's draws of spontaneous emission at their platelets' positions, which it
//! alone keeps, and continues the moved packets), the settling of the exchange
//! (`ase::settle`) and the orders it books, the cells'
//! summaries as the device returns them, and a copy of the platelets' counts brought
//! up to date for the snapshots and the run's end.

use rayon::prelude::*;

use super::Gpu;
use super::ase_transport::GpuTransport;
use super::gain::GpuGain;
use super::platelets::GpuPlatelets;
use crate::ase::books::{AseOutput, Books, Launch, Span};
use crate::ase::engine::{Stages, refresh_due, run_stages};
use crate::ase::exchange::{Order, OrderKind};
use crate::ase::photons::{AsePacket, StepView};
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;
use crate::ase::spontaneous::{self, Draw};
use crate::ase::tally::Ledger;
use crate::error::Result;
use crate::rng::Purpose;

/// Run sweep point `point` of `setup` on `gpu`, as `run --backend gpu` does.
pub fn run(
    gpu: &Gpu,
    setup: &AseSetup,
    point: u32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AseOutput> {
    run_stages(setup, point, &mut GpuAse::new(gpu, setup, point)?, progress)
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

/// A point's state on the GPU.
pub struct GpuAse<'g, 's> {
    setup: &'s AseSetup,
    platelets: GpuPlatelets<'g>,
    gain: GpuGain<'g>,
    transport: GpuTransport<'g>,
    /// The host's copy: the platelets' positions, and their counts and spectra as of
    /// the last snapshot.
    film: Film,
    books: Books,
    stale: Stale,
}

impl<'g, 's> GpuAse<'g, 's> {
    /// Sweep point `point` of `setup` on `gpu`, its film sampled on the host (the same
    /// film as the CPU's) and loaded onto the device.
    pub fn new(gpu: &'g Gpu, setup: &'s AseSetup, point: u32) -> Result<Self> {
        let transport = GpuTransport::new(gpu, setup)?;
        let mut gain = GpuGain::new(gpu, setup)?;
        let mut platelets = GpuPlatelets::new(gpu, setup)?;
        gain.attach(&platelets.counts, &platelets.energy)?;
        let mut film = Film::sample(setup, point);
        gain.load(setup, &film)?;
        gain.read(&mut film)?;
        platelets.load(&film);
        let books = Books::new(setup, &film);
        Ok(Self {
            setup,
            platelets,
            gain,
            transport,
            film,
            books,
            stale: Stale::new(setup.grid.cells()),
        })
    }

    /// The state with a unit of `photons` (a power of two) for the device's tallies of
    /// every dispatch ([`GpuTransport::with_tally_unit`]).
    pub fn with_tally_unit(mut self, photons: f64) -> Self {
        self.transport = self.transport.with_tally_unit(photons);
        self
    }

    /// Packet steps followed on the CPU so far (more cells met, or more segments taken,
    /// than the device holds or runs).
    pub fn followed_on_cpu(&self) -> u64 {
        self.transport.overflowed
    }

    /// Dispatches whose tallies the host summed so far, a term being beyond the
    /// device's fixed point.
    pub fn tallied_on_host(&self) -> u64 {
        self.transport.tallied_on_host
    }

    /// Book `orders` (the k-th of `cells` has `orders[first[k]..first[k + 1]]`) on the
    /// device: each cell's summary becomes what it then holds, and cells whose
    /// platelets moved are marked stale. Returns each order's excitons that could not
    /// be moved.
    fn book(
        &mut self,
        purpose: Purpose,
        span: Span,
        (cells, first, orders): (&[u32], &[u32], &[Order]),
    ) -> Result<Vec<u32>> {
        if cells.is_empty() {
            return Ok(Vec::new());
        }
        let (booked, left) = self.platelets.book_summaries(
            purpose,
            span.point_step(),
            span.t1,
            cells,
            first,
            orders,
        )?;
        for (&c, (held, moved)) in cells.iter().zip(booked) {
            self.books.summaries[c as usize] = held;
            if moved > 0 {
                self.stale.mark(c as usize);
            }
        }
        Ok(left)
    }

    /// Bring the host's copy of the counts of the cells marked stale up to the device's.
    fn sync_counts(&mut self) -> Result<()> {
        let cells = Stale::take(&mut self.stale.counts);
        if cells.is_empty() {
            return Ok(());
        }
        let s = self.setup.samples_per_cell;
        let counts = self.platelets.counts_of(&cells)?;
        for (&c, now) in cells.iter().zip(counts.chunks(s)) {
            let c = c as usize;
            for (p, &n) in self.film.platelets[c * s..(c + 1) * s].iter_mut().zip(now) {
                p.n = n;
            }
        }
        Ok(())
    }

    /// Where `setup.check_invariants` asks: the summaries are the device's own sums of
    /// its counts.
    fn check_summaries(&self, span: Span) -> Result<()> {
        if !self.setup.check_invariants {
            return Ok(());
        }
        let all: Vec<u32> = (0..self.books.summaries.len() as u32).collect();
        let g_d = self.setup.optics.degeneracy;
        let counts = self.platelets.counts_of(&all)?;
        for (summary, counts) in self
            .books
            .summaries
            .iter()
            .zip(counts.chunks(self.setup.samples_per_cell))
        {
            let excitons: u64 = counts.iter().map(|&n| u64::from(n)).sum();
            let room: u64 = counts
                .iter()
                .map(|&n| u64::from(g_d.saturating_sub(n)))
                .sum();
            assert_eq!(
                (summary.excitons, summary.room),
                (excitons, room),
                "a cell's summary disagrees with the device's platelets at step {}",
                span.step
            );
        }
        Ok(())
    }
}

impl Stages for GpuAse<'_, '_> {
    /// The device draws each packet's platelet, bin, time and directions from its
    /// counts; the host starts the packets at their platelets.
    fn spontaneous_emission(&mut self, span: Span) -> Result<()> {
        if refresh_due(span) {
            self.gain.recompute_on_device()?;
            self.stale.gain.fill(false);
        }
        let setup = self.setup;
        let launch = Launch::plan(setup, &self.books.summaries, span);
        let launches: Vec<(u32, u32, u64)> = (0..launch.packets.len())
            .filter(|&c| launch.packets[c] > 0)
            .map(|c| {
                (
                    c as u32,
                    launch.packets[c],
                    self.books.summaries[c].excitons,
                )
            })
            .collect();
        let mut drawn = self
            .platelets
            .draws(span.point_step(), &launches)?
            .into_iter();
        let mut draws: Vec<Vec<Draw>> = vec![Vec::new(); launch.packets.len()];
        for &(c, packets, _) in &launches {
            draws[c as usize] = drawn.by_ref().take(packets as usize).collect();
        }
        let per_cell: Vec<(Vec<AsePacket>, Ledger)> = self
            .film
            .platelets
            .par_chunks(setup.samples_per_cell)
            .zip(draws.par_iter())
            .map(|(platelets, drawn)| {
                let (mut born, mut led) = (Vec::new(), Ledger::default());
                for d in drawn {
                    let (weight, span) = (launch.packet_weight, (span.t0, span.t1));
                    spontaneous::emit(setup, platelets, d, weight, span, &mut born, &mut led);
                }
                (born, led)
            })
            .collect();
        for (born, led) in per_cell {
            self.books.adopt(born, &led);
        }
        self.books.emission = launch.emission;
        Ok(())
    }

    /// The loss events of the cells where one falls due, and the whole sampled
    /// excitons of each cell's pending radiative decay booked as
    /// `spontaneous::book_radiative` books them.
    fn platelet_decay(&mut self, span: Span) -> Result<()> {
        let setup = self.setup;
        if !setup.frozen {
            let w = setup.platelet_weight;
            let due: Vec<u32> = (0..self.books.summaries.len() as u32)
                .filter(|&c| self.books.summaries[c as usize].next_ps < span.t1)
                .collect();
            if !due.is_empty() {
                let decayed = self
                    .platelets
                    .decay_summaries(span.point, span.step, span.t1, &due)?;
                for (&c, (held, losses)) in due.iter().zip(decayed) {
                    let c = c as usize;
                    self.books.summaries[c] = held;
                    self.books.record.ledger.nonradiative += losses.nonradiative as f64 * w;
                    self.books.record.ledger.auger += losses.auger as f64 * w;
                    if losses.nonradiative + losses.auger > 0 {
                        self.stale.mark(c);
                    }
                }
            }
            let (mut cells, mut first, mut orders) = (Vec::new(), vec![0], Vec::new());
            for (c, (pending, e)) in self
                .books
                .pending_r
                .iter_mut()
                .zip(&self.books.emission)
                .enumerate()
            {
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
            let left = self.book(Purpose::Radiative, span, (&cells, &first, &orders))?;
            for ((&c, order), left) in cells.iter().zip(&orders).zip(left) {
                self.books.pending_r[c as usize] -= f64::from(order.count - left) * w;
            }
        }
        self.books.cell_excitons = self.books.held(setup);
        Ok(())
    }

    /// The device's spectra follow its counts in the cells that changed.
    fn cell_gain(&mut self, _span: Span) -> Result<()> {
        self.gain.follow(&Stale::take(&mut self.stale.gain))
    }

    fn ase_transport(&mut self, span: Span) -> Result<f64> {
        let setup = self.setup;
        let books = &mut self.books;
        let view = StepView {
            setup,
            stim: &self.film.stim,
            abs: &self.film.abs,
            cell_excitons: &books.cell_excitons,
        };
        let started = std::time::Instant::now();
        let (exchange, segments) = self.transport.advance_all(
            &view,
            &self.gain,
            &mut books.packets,
            span,
            &mut books.record.tally,
            &mut books.record.ledger,
        )?;
        Ok(books.moved(setup, &exchange, segments, started))
    }

    /// Each cell's pending exchange booked as whole sampled excitons, bin by bin, as
    /// `exchange::apply_cell` books it, the sub-exciton remainders left pending.
    fn platelet_booking(&mut self, span: Span) -> Result<()> {
        let setup = self.setup;
        if !setup.coupled || setup.frozen {
            return Ok(());
        }
        let w = setup.platelet_weight;
        let bins = setup.spectrum.bins;
        let (mut cells, mut first, mut orders) = (Vec::new(), vec![0], Vec::new());
        for (c, (ps, pa)) in self
            .books
            .pending_s
            .chunks_mut(bins)
            .zip(self.books.pending_a.chunks_mut(bins))
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
        let left = self.book(Purpose::Exchange, span, (&cells, &first, &orders))?;
        for (order, left) in orders.iter().zip(left) {
            let unbooked = f64::from(left) * w;
            match order.kind {
                OrderKind::Stimulated => self.books.record.ledger.unbooked_stimulated += unbooked,
                _ => self.books.record.ledger.unbooked_absorbed += unbooked,
            }
        }
        Ok(())
    }

    /// The exits' tallies were summed on the device as the packets moved; the
    /// snapshots read the device's counts and spectra.
    fn tallies(&mut self, span: Span) -> Result<()> {
        self.check_summaries(span)?;
        while self.books.snapshot_due(self.setup, span) {
            self.sync_counts()?;
            self.gain.follow(&Stale::take(&mut self.stale.gain))?;
            self.gain.read(&mut self.film)?;
            self.books.snapshot(self.setup, &self.film, span);
        }
        Ok(())
    }

    fn finish(&mut self, steps: u64) -> Result<AseOutput> {
        self.sync_counts()?;
        let (overflowed, on_host) = (self.followed_on_cpu(), self.tallied_on_host());
        if overflowed > 0 {
            self.books.record.notes.push(format!(
                "{} packet steps met more than {} cells (or took more segments than the adapter's loops run) and were followed on the CPU",
                overflowed,
                super::ase_transport::ENTRIES
            ));
        }
        if on_host > 0 {
            self.books.record.notes.push(format!(
                "{} dispatches had a photon count beyond the range of the device's tallies and were tallied on the host",
                on_host
            ));
        }
        Ok(self.books.output(self.setup, &self.film, steps))
    }
}
