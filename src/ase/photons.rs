//! ASE photon packets: moving one packet through one time step in the layered slab
//! (the ASE engine's walk of the mover, `transport::mover::walk`), gaining or losing
//! weight by its cell's net gain at its wavelength, and booking every photon gained or
//! absorbed against that cell for the platelets to pay.
//!
//! Over a path element s in a film cell with stimulated gain g_s, platelet absorption
//! g_a and background loss α, the weight goes from W to W·e^{(g_s − g_a − α)s}; with
//! I = ∫W ds = W(e^{rs} − 1)/r the stimulated photons are g_s·I, the photons absorbed
//! by platelets g_a·I and by the background α·I, which add up exactly.

use super::setup::{AseSetup, CellGrid};
use super::tally::{Exit, ExitTally, Ledger};
use crate::rng::{Purpose, Stream};
use crate::transport::geometry::{FILM, Layer, Stack};
use crate::transport::mover::{self, End, Left, Walk};
use crate::transport::packet::Roulette;
use crate::units::SPEED_OF_LIGHT_CM_PER_PS;

/// Segments after which a packet is stopped for the step (a guard; never reached in
/// the cases we know of).
const MAX_SEGMENTS_PER_STEP: u32 = 1_000_000;

/// |r·s| below which I = W·s to first order.
const SMALL_EXPONENT: f64 = 1e-9;

/// Fraction of a cell size a point is nudged along its direction to find the cell it
/// is entering when it sits on a cell plane.
const NUDGE: f64 = 1e-9;

/// A photon packet of the ASE engine.
#[derive(Debug, Clone, PartialEq)]
pub struct AsePacket {
    pub pos: [f64; 3],
    pub dir: [f64; 3],
    /// Real photons carried.
    pub weight: f64,
    /// Weight at birth (the roulette threshold is relative to it).
    pub birth_weight: f64,
    /// Spectral bin.
    pub bin: u32,
    pub layer: usize,
    pub time_ps: f64,
    /// Creation index: keys the packet's random streams.
    pub id: u32,
    pub fate: Fate,
}

/// What became of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Still in the film.
    Alive,
    /// Left through an exit (at `time_ps`).
    Exited(Exit),
    /// Lost Russian roulette.
    Killed,
}

/// The state packets see during a step: the cells' gain spectra and excitons after the
/// step's loss events and radiative bookings (stage 1), before any exchange is booked.
pub struct StepView<'a> {
    pub setup: &'a AseSetup,
    /// cells × bins, cm⁻¹.
    pub stim: &'a [f64],
    pub abs: &'a [f64],
    /// Real excitons in each cell at the step's start.
    pub cell_excitons: &'a [f64],
}

/// Photons one packet exchanged with one cell-bin during a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exchange {
    /// cell · bins + bin.
    pub cell_bin: u32,
    /// Index of the packet in the step's packet list.
    pub packet: u32,
    pub stimulated: f64,
    pub absorbed: f64,
}

/// What packets did during a step, to be merged in a fixed order.
pub struct StepOutput {
    pub exchange: Vec<Exchange>,
    pub tally: ExitTally,
    pub ledger: Ledger,
    pub segments: u64,
}

impl StepOutput {
    pub fn new(setup: &AseSetup) -> Self {
        Self {
            exchange: Vec::new(),
            tally: ExitTally::new(setup.spectrum.bins, setup.time_bins, setup.duration_ps),
            ledger: Ledger::default(),
            segments: 0,
        }
    }
}

fn leave(p: &mut AsePacket, exit: Exit, out: &mut StepOutput) {
    out.tally.add(exit, p.bin as usize, p.time_ps, p.weight);
    out.ledger.exits[exit as usize] += p.weight;
    p.fate = Fate::Exited(exit);
}

/// Move packet `p` (number `index` of the list of step `step` of sweep point `point`)
/// until `t_end`, or until it leaves or dies; its `fate` says which. It draws from its
/// own stream (Photon, point, step, its id), the stream the GPU kernel uses too. What
/// it exchanged with the platelets goes to `out.exchange` as one entry per cell it met,
/// in the order it first met them.
pub fn advance(
    view: &StepView,
    p: &mut AsePacket,
    index: u32,
    (point, step): (u32, u32),
    t_end: f64,
    out: &mut StepOutput,
) {
    let bins = view.setup.spectrum.bins;
    let mut rng = Stream::new(view.setup.seed, Purpose::Photon, point, step, p.id);
    let mut taken: Vec<(usize, f64, f64)> = Vec::new();
    follow(view, p, t_end, &mut rng, out, &mut taken);
    for (c, stimulated, absorbed) in taken {
        if stimulated > 0.0 || absorbed > 0.0 {
            out.exchange.push(Exchange {
                cell_bin: (c * bins) as u32 + p.bin,
                packet: index,
                stimulated,
                absorbed,
            });
        }
    }
}

/// An ASE packet's walk through one time step: amplified or absorbed by its cells'
/// net gain at its wavelength, every photon gained or absorbed noted against the cell
/// (`taken`: cell, stimulated, absorbed), roulette relative to its birth weight.
/// What it reads of the step's setup is copied in once, so that the mover's loop does
/// not reload it through the setup after every store to the packet or the output.
struct Amplified<'a> {
    p: &'a mut AsePacket,
    t_end: f64,
    out: &'a mut StepOutput,
    taken: &'a mut Vec<(usize, f64, f64)>,
    stack: &'a Stack,
    grid: CellGrid,
    coupled: bool,
    bins: usize,
    roulette: Roulette,
    stim: &'a [f64],
    abs: &'a [f64],
    cell_excitons: &'a [f64],
}

impl Walk for Amplified<'_> {
    #[inline(always)]
    fn ray(&mut self) -> (&mut [f64; 3], &mut [f64; 3], &mut usize) {
        (&mut self.p.pos, &mut self.p.dir, &mut self.p.layer)
    }

    #[inline(always)]
    fn segment(&mut self) {
        self.out.segments += 1;
    }

    #[inline(always)]
    fn budget(&self, layer: &Layer) -> f64 {
        (self.t_end - self.p.time_ps) * (SPEED_OF_LIGHT_CM_PER_PS / layer.n)
    }

    #[inline(always)]
    fn folds(&self) -> bool {
        // A guided ray in a film one cell deep meets its faces only to be totally
        // reflected.
        self.p.layer == FILM && self.grid.nz == 1 && self.stack.film_guides(self.p.dir[2])
    }

    #[inline(always)]
    fn cell(&self) -> (f64, Option<usize>) {
        if self.p.layer != FILM {
            return (f64::INFINITY, None);
        }
        let grid = &self.grid;
        let (pos, dir) = (&self.p.pos, &self.p.dir);
        let size = grid.size();
        let probe = [0, 1, 2].map(|k| pos[k] + dir[k] * NUDGE * size[k]);
        let coords = grid.coords(probe);
        let corner = grid.corner(coords);
        let counts = [grid.nx, grid.ny, grid.nz];
        let mut nearest = f64::INFINITY;
        for k in 0..3 {
            // The outermost planes are the film's own faces and edges.
            let d = if dir[k] > 0.0 && coords[k] + 1 < counts[k] {
                (corner[k] + size[k] - pos[k]) / dir[k]
            } else if dir[k] < 0.0 && coords[k] > 0 {
                (corner[k] - pos[k]) / dir[k]
            } else {
                f64::INFINITY
            };
            nearest = nearest.min(d);
        }
        (nearest, Some(grid.index(coords)))
    }

    #[inline(always)]
    fn travel(&mut self, s: f64, layer: &Layer, cell: Option<usize>) {
        let p = &mut *self.p;
        p.time_ps += s / (SPEED_OF_LIGHT_CM_PER_PS / layer.n);
        let (g_s, g_a) = match cell {
            Some(c) if self.coupled => {
                let i = c * self.bins + p.bin as usize;
                (self.stim[i], self.abs[i])
            }
            _ => (0.0, 0.0),
        };
        let alpha = layer.mu_a;
        let rate = g_s - g_a - alpha;
        if rate == 0.0 || s <= 0.0 {
            return;
        }
        let w0 = p.weight;
        let integral = if (rate * s).abs() < SMALL_EXPONENT {
            w0 * s
        } else {
            w0 * (rate * s).exp_m1() / rate
        };
        let mut stimulated = g_s * integral;
        let mut absorbed = g_a * integral;
        let mut background = alpha * integral;
        let taken = &mut *self.taken;
        let slot = cell.map(|c| match taken.iter().position(|t| t.0 == c) {
            Some(k) => k,
            None => {
                taken.push((c, 0.0, 0.0));
                taken.len() - 1
            }
        });
        if let (Some(c), Some(k)) = (cell, slot) {
            // No packet takes more from a cell in one step than it holds.
            let room = (self.cell_excitons[c] - taken[k].1).max(0.0);
            stimulated = stimulated.min(room);
        }
        // A packet whose gain was capped cannot lose more than it carries.
        let losses = absorbed + background;
        if losses > w0 + stimulated {
            let k = (w0 + stimulated) / losses;
            absorbed *= k;
            background *= k;
        }
        if let Some(k) = slot {
            taken[k].1 += stimulated;
            taken[k].2 += absorbed;
        }
        let ledger = &mut self.out.ledger;
        ledger.stimulated += stimulated;
        ledger.absorbed += absorbed;
        ledger.background += background;
        p.weight = (w0 + stimulated - absorbed - background).max(0.0);
    }

    #[inline(always)]
    fn roulette(&mut self, rng: &mut Stream) -> bool {
        let roulette = self.roulette;
        let p = &mut *self.p;
        if p.weight < roulette.threshold * p.birth_weight {
            if rng.uniform() < roulette.survival {
                let gained = p.weight * (1.0 / roulette.survival - 1.0);
                self.out.ledger.roulette_net += gained;
                p.weight += gained;
            } else {
                self.out.ledger.roulette_net -= p.weight;
                return false;
            }
        }
        true
    }
}

/// The path of `advance`; `taken` collects (cell, stimulated, absorbed).
fn follow(
    view: &StepView,
    p: &mut AsePacket,
    t_end: f64,
    rng: &mut Stream,
    out: &mut StepOutput,
    taken: &mut Vec<(usize, f64, f64)>,
) {
    let setup = view.setup;
    let (stack, detector_cos) = (&setup.stack, setup.detector_cos);
    let mut walk = Amplified {
        p,
        t_end,
        out,
        taken,
        stack,
        grid: setup.grid,
        coupled: setup.coupled,
        bins: setup.spectrum.bins,
        roulette: setup.roulette,
        stim: view.stim,
        abs: view.abs,
        cell_excitons: view.cell_excitons,
    };
    let end = mover::walk(stack, &mut walk, rng, MAX_SEGMENTS_PER_STEP);
    let exit = match end {
        End::Budget => {
            p.time_ps = t_end;
            return;
        }
        End::Died => {
            p.fate = Fate::Killed;
            return;
        }
        // A step's path is finite; a packet that took the most segments a step allows
        // waits for the next.
        End::NowhereToGo | End::GaveUp => return,
        End::Left(Left::Top) => Exit::Surface,
        End::Left(Left::Bottom) => Exit::Substrate,
        End::Left(Left::Edge {
            axis,
            plus,
            cos_out,
        }) => {
            if axis == 0 && plus && cos_out >= detector_cos {
                Exit::Detector
            } else {
                Exit::OtherEdges
            }
        }
    };
    leave(p, exit, out);
}
