//! What a point of the ASE engine has produced so far and what it still owes, kept on
//! the host: the ledger, the exits' tallies, the snapshots, the packets in flight, the
//! photons exchanged (and emitted) that are not yet booked as whole sampled excitons,
//! and each cell's summary. Both backends' stages read and write it; the CPU keeps its
//! platelets beside it, the GPU a copy of their counts for the snapshots.

use super::exchange::Moved;
use super::photons::{AsePacket, Exchange, Fate};
use super::platelets::{Film, Platelet};
use super::settle::settle_exchange;
use super::setup::AseSetup;
use super::spontaneous;
use super::tally::{ExitTally, Ledger};
use crate::rng::{Purpose, Stream};

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
    pub fn of(setup: &AseSetup, platelets: &[Platelet]) -> Self {
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
    pub fn holds_for(&self, setup: &AseSetup, platelets: &[Platelet]) -> bool {
        let now = Self::of(setup, platelets);
        (self.excitons, self.room) == (now.excitons, now.room) && self.next_ps <= now.next_ps
    }

    /// Take in what a booking did to the cell's platelets.
    pub fn add(&mut self, moved: Moved) {
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

/// One time step: sweep point, step number and the span [t0, t1), ps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub point: u32,
    pub step: u32,
    pub t0: f64,
    pub t1: f64,
}

impl Span {
    pub fn point_step(&self) -> (u32, u32) {
        (self.point, self.step)
    }
}

/// A step's spontaneous emission, planned from the cells' summaries: each cell's
/// expected emission (real photons), the packets it launches, and their weight.
pub struct Launch {
    pub emission: Vec<f64>,
    pub packets: Vec<u32>,
    pub packet_weight: f64,
}

impl Launch {
    /// As many packets per unit time however the step is cut, shared among the cells
    /// by systematic sampling (`spontaneous::allocate`).
    pub fn plan(setup: &AseSetup, summaries: &[CellSummary], span: Span) -> Self {
        let dt = span.t1 - span.t0;
        let emission: Vec<f64> = summaries
            .iter()
            .map(|c| spontaneous::cell_emission(setup, c.excitons, dt))
            .collect();
        let total: f64 = emission.iter().sum();
        let count = (f64::from(setup.packets_per_step) * dt / setup.dt_ps)
            .round()
            .max(1.0);
        let comb = Stream::new(
            setup.seed,
            Purpose::Spontaneous,
            span.point,
            span.step,
            u32::MAX,
        )
        .uniform();
        Self {
            packets: spontaneous::allocate(&emission, count as u32, comb),
            packet_weight: total / count,
            emission,
        }
    }
}

/// What a point records while it runs and hands back when it ends: the ledger, the
/// exits' tallies, the snapshots, the transport's work and the notes for the log.
#[derive(Debug, Default)]
pub struct Record {
    pub ledger: Ledger,
    pub tally: ExitTally,
    /// Times of the snapshots, ps.
    pub snapshot_ps: Vec<f64>,
    /// Snapshots × (n_max + 1): fraction of the stripe's platelets holding n excitons.
    pub populations: Vec<Vec<f64>>,
    /// Snapshots × bins: net material gain at the stripe centre, cm⁻¹.
    pub gain: Vec<Vec<f64>>,
    pub mean_excitons_initial: f64,
    pub photon_segments: u64,
    /// Wall time spent moving packets (the transport's share of the run), s.
    pub transport_s: f64,
    /// Lines for the log about how the point was run (work a device handed back).
    pub notes: Vec<String>,
}

/// The host's books of one point.
pub struct Books {
    /// What the point has recorded so far.
    pub record: Record,
    /// The packets in flight, in the order they were made.
    pub packets: Vec<AsePacket>,
    /// The id of the next packet made (keys its random streams).
    pub next_id: u32,
    /// Stimulated (absorbed) photons not yet booked as whole sampled excitons,
    /// cells × bins.
    pub pending_s: Vec<f64>,
    pub pending_a: Vec<f64>,
    /// Photons emitted spontaneously whose excitons are not yet removed, per cell.
    pub pending_r: Vec<f64>,
    pub summaries: Vec<CellSummary>,
    /// Real excitons each cell holds when the packets start to move.
    pub cell_excitons: Vec<f64>,
    /// This step's expected spontaneous emission per cell, real photons.
    pub emission: Vec<f64>,
}

impl Books {
    /// The books of a film just excited by the pump.
    pub fn new(setup: &AseSetup, film: &Film) -> Self {
        let cells = setup.grid.cells();
        let bins = setup.spectrum.bins;
        let w = setup.platelet_weight;
        let first = populations(setup, film);
        Self {
            record: Record {
                ledger: Ledger {
                    pump_excitons: film.platelets.iter().map(|p| f64::from(p.n)).sum::<f64>() * w,
                    ..Ledger::default()
                },
                tally: ExitTally::new(bins, setup.time_bins, setup.duration_ps),
                snapshot_ps: vec![0.0],
                mean_excitons_initial: first.iter().enumerate().map(|(n, f)| n as f64 * f).sum(),
                populations: vec![first],
                gain: vec![centre_gain(setup, film)],
                photon_segments: 0,
                transport_s: 0.0,
                notes: Vec::new(),
            },
            packets: Vec::new(),
            next_id: 0,
            pending_s: vec![0.0; cells * bins],
            pending_a: vec![0.0; cells * bins],
            pending_r: vec![0.0; cells],
            summaries: film
                .platelets
                .chunks(setup.samples_per_cell)
                .map(|ps| CellSummary::of(setup, ps))
                .collect(),
            cell_excitons: Vec::new(),
            emission: Vec::new(),
        }
    }

    /// Take a cell's new packets and its ledger, in cell order: the packets get their ids.
    pub fn adopt(&mut self, born: Vec<AsePacket>, ledger: &Ledger) {
        self.record.ledger.merge(ledger);
        for mut p in born {
            p.id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            self.packets.push(p);
        }
    }

    /// Real excitons each cell can give the step's packets: what its summary holds, or
    /// without limit where the populations are frozen (a reservoir that never empties:
    /// the transport is linear, and no packet's gain is capped by a cell's content,
    /// which would make the output depend on how many packets carry it).
    pub fn held(&self, setup: &AseSetup) -> Vec<f64> {
        if setup.frozen {
            return vec![f64::INFINITY; self.summaries.len()];
        }
        let w = setup.platelet_weight;
        self.summaries
            .iter()
            .map(|c| c.excitons as f64 * w)
            .collect()
    }

    /// Whether a snapshot falls due by the end of `span`.
    pub fn snapshot_due(&self, setup: &AseSetup, span: Span) -> bool {
        let every = setup.duration_ps / setup.time_bins as f64;
        (self.record.snapshot_ps.len() as f64) * every <= span.t1 + 1e-9 * setup.dt_ps
            && self.record.snapshot_ps.len() < setup.time_bins
    }

    /// Take a snapshot of `film` (its counts and spectra up to date) at the end of `span`.
    pub fn snapshot(&mut self, setup: &AseSetup, film: &Film, span: Span) {
        self.record.snapshot_ps.push(span.t1);
        self.record.populations.push(populations(setup, film));
        self.record.gain.push(centre_gain(setup, film));
    }

    /// The packets were moved through a step (started at `started`, taking `segments`
    /// path segments, exchanging `exchange` with the cells): settle the exchange where
    /// it is booked, drop the packets that left or died, and return the step's load.
    pub fn moved(
        &mut self,
        setup: &AseSetup,
        exchange: &[Exchange],
        segments: u64,
        started: std::time::Instant,
    ) -> f64 {
        self.record.transport_s += started.elapsed().as_secs_f64();
        self.record.photon_segments += segments;
        let load = if setup.coupled && !setup.frozen {
            settle_exchange(setup, self, exchange)
        } else {
            0.0
        };
        self.packets.retain(|p| p.fate == Fate::Alive);
        load
    }

    /// Everything the point produced, its film's counts final (the books are left empty).
    pub fn output(&mut self, setup: &AseSetup, film: &Film, steps: u64) -> AseOutput {
        let w = setup.platelet_weight;
        let ledger = &mut self.record.ledger;
        ledger.in_flight = self.packets.iter().map(|p| p.weight).sum();
        ledger.excitons_left = film.platelets.iter().map(|p| f64::from(p.n)).sum::<f64>() * w;
        ledger.pending_stimulated = self.pending_s.iter().sum();
        ledger.pending_absorbed = self.pending_a.iter().sum();
        ledger.pending_radiative = self.pending_r.iter().sum();
        AseOutput {
            record: std::mem::take(&mut self.record),
            packets: u64::from(self.next_id),
            platelet_steps: film.platelets.len() as u64 * steps,
            steps,
            platelets: film.platelets.len(),
        }
    }
}

/// Everything one point produced: its [`Record`] (read through the output, as
/// `out.ledger`, `out.tally`, …) and the work it took.
pub struct AseOutput {
    pub record: Record,
    pub packets: u64,
    pub platelet_steps: u64,
    pub platelets: usize,
    /// Time steps taken (more than duration/dt where the step was shortened).
    pub steps: u64,
}

impl std::ops::Deref for AseOutput {
    type Target = Record;

    /// The record the point produced.
    fn deref(&self) -> &Record {
        &self.record
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_cells_are_a_reservoir_and_live_ones_hold_their_summaries() {
        let mut setup = crate::ase::setup::tiny_setup("");
        let film = Film::sample(&setup, 0);
        let books = Books::new(&setup, &film);
        let w = setup.platelet_weight;
        let held = books.held(&setup);
        for (h, s) in held.iter().zip(&books.summaries) {
            assert_eq!(*h, s.excitons as f64 * w);
        }
        setup.frozen = true;
        assert!(books.held(&setup).iter().all(|h| h.is_infinite()));
    }
}
