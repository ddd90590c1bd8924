//! ASE photon packets: moving one packet through one time step in the layered slab,
//! gaining or losing weight by its cell's net gain at its wavelength, and booking every
//! photon gained or absorbed against that cell for the platelets to pay.
//!
//! Over a path element s in a film cell with stimulated gain g_s, platelet absorption
//! g_a and background loss α, the weight goes from W to W·e^{(g_s − g_a − α)s}; with
//! I = ∫W ds = W(e^{rs} − 1)/r the stimulated photons are g_s·I, the photons absorbed
//! by platelets g_a·I and by the background α·I, which add up exactly.

use super::setup::AseSetup;
use super::tally::{Exit, ExitTally, Ledger};
use crate::rng::{Purpose, Stream};
use crate::transport::geometry::FILM;
use crate::transport::interfaces::{
    Outcome, Plane, meet_edge, meet_face, nearest_edge, nearest_plane,
};
use crate::transport::scatter;
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

/// The state packets see during a step (populations as at the step's start).
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

#[derive(Clone, Copy, PartialEq)]
enum Event {
    Budget,
    Scatter,
    Plane(Plane),
    CellPlane,
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
    let stack = &setup.stack;
    let grid = &setup.grid;
    let bins = setup.spectrum.bins;
    let mut tau = 0.0;
    for _ in 0..MAX_SEGMENTS_PER_STEP {
        out.segments += 1;
        let layer = stack.layers[p.layer];
        if layer.mu_s > 0.0 && tau <= 0.0 {
            tau = -rng.uniform().ln();
        }
        let speed = SPEED_OF_LIGHT_CM_PER_PS / layer.n;
        let mut s = (t_end - p.time_ps) * speed;
        let mut event = Event::Budget;
        let consider = |d: f64, e: Event, s: &mut f64, event: &mut Event| {
            if d < *s {
                *s = d.max(0.0);
                *event = e;
            }
        };
        // A guided ray in a film one cell deep meets its faces only to be totally
        // reflected: follow its zigzag by folding, up to the next edge or cell plane.
        let guided = p.layer == FILM && grid.nz == 1 && stack.film_guides(p.dir[2]);
        let (to_plane, plane) = if guided {
            nearest_edge(stack, &p.pos, &p.dir)
        } else {
            nearest_plane(stack, p.layer, &p.pos, &p.dir)
        };
        consider(to_plane, Event::Plane(plane), &mut s, &mut event);
        let mut cell = None;
        if p.layer == FILM {
            let size = grid.size();
            let probe = [0, 1, 2].map(|k| p.pos[k] + p.dir[k] * NUDGE * size[k]);
            let coords = grid.coords(probe);
            let corner = grid.corner(coords);
            let counts = [grid.nx, grid.ny, grid.nz];
            for k in 0..3 {
                // The outermost planes are the film's own faces and edges, handled above.
                let d = if p.dir[k] > 0.0 && coords[k] + 1 < counts[k] {
                    (corner[k] + size[k] - p.pos[k]) / p.dir[k]
                } else if p.dir[k] < 0.0 && coords[k] > 0 {
                    (corner[k] - p.pos[k]) / p.dir[k]
                } else {
                    f64::INFINITY
                };
                consider(d, Event::CellPlane, &mut s, &mut event);
            }
            cell = Some(grid.index(coords));
        }
        if layer.mu_s > 0.0 {
            consider(tau / layer.mu_s, Event::Scatter, &mut s, &mut event);
        }

        // Move and change weight along the segment.
        if guided {
            p.pos[0] += s * p.dir[0];
            p.pos[1] += s * p.dir[1];
            (p.pos[2], p.dir[2]) = stack.fold_in_film(p.pos[2], p.dir[2], s);
        } else {
            for k in 0..3 {
                p.pos[k] += s * p.dir[k];
            }
        }
        p.time_ps += s / speed;
        if layer.mu_s > 0.0 {
            tau -= s * layer.mu_s;
        }
        let (g_s, g_a) = match cell {
            Some(c) if setup.coupled => {
                let i = c * bins + p.bin as usize;
                (view.stim[i], view.abs[i])
            }
            _ => (0.0, 0.0),
        };
        let alpha = layer.mu_a;
        let rate = g_s - g_a - alpha;
        if rate != 0.0 && s > 0.0 {
            let w0 = p.weight;
            let integral = if (rate * s).abs() < SMALL_EXPONENT {
                w0 * s
            } else {
                w0 * (rate * s).exp_m1() / rate
            };
            let mut stimulated = g_s * integral;
            let mut absorbed = g_a * integral;
            let mut background = alpha * integral;
            let slot = cell.map(|c| match taken.iter().position(|t| t.0 == c) {
                Some(k) => k,
                None => {
                    taken.push((c, 0.0, 0.0));
                    taken.len() - 1
                }
            });
            if let (Some(c), Some(k)) = (cell, slot) {
                // No packet takes more from a cell in one step than it holds.
                let room = (view.cell_excitons[c] - taken[k].1).max(0.0);
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
            out.ledger.stimulated += stimulated;
            out.ledger.absorbed += absorbed;
            out.ledger.background += background;
            p.weight = (w0 + stimulated - absorbed - background).max(0.0);
        }

        match event {
            Event::Budget => {
                p.time_ps = t_end;
                return;
            }
            Event::CellPlane => {}
            Event::Scatter => {
                tau = 0.0;
                p.dir = scatter::scatter_hg(p.dir, layer.g, rng);
            }
            Event::Plane(Plane::Face { down }) => {
                match meet_face(stack, p.layer, down, &mut p.pos, &mut p.dir, rng) {
                    Outcome::Entered(next) => p.layer = next,
                    Outcome::LeftTop => return leave(p, Exit::Surface, out),
                    Outcome::LeftBottom => return leave(p, Exit::Substrate, out),
                    Outcome::Reflected | Outcome::LeftEdge { .. } => {}
                }
            }
            Event::Plane(Plane::Edge { axis, plus }) => {
                if let Outcome::LeftEdge { cos_out } =
                    meet_edge(stack, axis, plus, &mut p.pos, &mut p.dir, rng)
                {
                    let detected = axis == 0 && plus && cos_out >= setup.detector_cos;
                    return leave(
                        p,
                        if detected {
                            Exit::Detector
                        } else {
                            Exit::OtherEdges
                        },
                        out,
                    );
                }
            }
        }

        if p.weight < setup.roulette.threshold * p.birth_weight {
            if rng.uniform() < setup.roulette.survival {
                let gained = p.weight * (1.0 / setup.roulette.survival - 1.0);
                out.ledger.roulette_net += gained;
                p.weight += gained;
            } else {
                out.ledger.roulette_net -= p.weight;
                p.fate = Fate::Killed;
                return;
            }
        }
    }
}
