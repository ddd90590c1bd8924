//! Following one photon packet through the layered slab until it leaves, is absorbed,
//! is found trapped, or loses Russian roulette.
//!
//! Absorption is continuous: along a path element s the weight falls by
//! exp(−µa·s) and the difference is booked as absorbed where it happened. Scattering
//! distances are sampled from µs alone. Interfaces reflect or transmit stochastically
//! with the unpolarised Fresnel reflectance, which is unbiased for every tally.

use super::geometry::{FILM, Stack, TrappedFate};
use super::interfaces::{Outcome, Plane, meet_edge, meet_face, nearest_plane};
use super::scatter;
use super::tally::{Channel, PhotonScore, Tally};
use crate::rng::Stream;
use crate::units::SPEED_OF_LIGHT_CM_PER_PS;

/// Interactions after which a packet is given up and booked as unresolved. Only a
/// lossless, non-scattering finite film whose edges trap a ray by total internal
/// reflection in every direction comes near it.
pub const MAX_INTERACTIONS: u32 = 1_000_000;

/// A photon packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Position, cm.
    pub pos: [f64; 3],
    /// Unit direction.
    pub dir: [f64; 3],
    /// Weight, in launched photons.
    pub weight: f64,
    /// Layer index in the stack.
    pub layer: usize,
    /// Time since launch, ps.
    pub time_ps: f64,
}

/// Russian roulette settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roulette {
    pub threshold: f64,
    pub survival: f64,
}

/// The nearest event on the packet's straight path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Scatter,
    Plane(Plane),
}

fn edge_channel(axis: usize, plus: bool) -> Channel {
    match (axis, plus) {
        (0, false) => Channel::EdgeXMinus,
        (0, true) => Channel::EdgeXPlus,
        (_, false) => Channel::EdgeYMinus,
        (_, true) => Channel::EdgeYPlus,
    }
}

/// Book a trapped packet's weight where it must end; true if it was trapped.
fn settle_if_trapped(stack: &Stack, p: &Packet, score: &mut PhotonScore) -> bool {
    match stack.trapped_fate(p.layer, p.dir) {
        None => false,
        Some(TrappedFate::Guided) => {
            score.add(Channel::Guided, p.weight);
            true
        }
        Some(TrappedFate::AbsorbedIn(layer)) => {
            let channel = if layer == FILM {
                Channel::AbsorbedFilm
            } else {
                Channel::AbsorbedSubstrate
            };
            score.add(channel, p.weight);
            true
        }
    }
}

/// Leave through `exit` with the packet's whole weight.
fn leave(p: &Packet, exit: Channel, score: &mut PhotonScore, tally: &mut Tally) {
    score.add(exit, p.weight);
    tally.add_time(exit, p.time_ps, p.weight);
}

/// Follow packet `p` to the end of its life, booking into `score` (per photon) and
/// `tally` (time histograms, step count).
pub fn trace(
    stack: &Stack,
    roulette: Roulette,
    p: &mut Packet,
    rng: &mut Stream,
    score: &mut PhotonScore,
    tally: &mut Tally,
) {
    if settle_if_trapped(stack, p, score) {
        return;
    }
    // Remaining scattering optical depth; sampled when it runs out.
    let mut tau = 0.0;
    for _ in 0..MAX_INTERACTIONS {
        tally.steps += 1;
        let layer = stack.layers[p.layer];
        if layer.mu_s > 0.0 && tau <= 0.0 {
            tau = -rng.uniform().ln();
        }

        // Distances to the possible events.
        let (mut s, plane) = nearest_plane(stack, p.layer, &p.pos, &p.dir);
        let mut event = Event::Plane(plane);
        if layer.mu_s > 0.0 {
            let s_scatter = tau / layer.mu_s;
            if s_scatter < s {
                s = s_scatter;
                event = Event::Scatter;
            }
        }
        if !s.is_finite() {
            score.add(Channel::Unresolved, p.weight);
            return;
        }

        // Move, absorb, age.
        for k in 0..3 {
            p.pos[k] += s * p.dir[k];
        }
        if layer.mu_a > 0.0 {
            let absorbed = p.weight * (-(-layer.mu_a * s).exp_m1());
            let channel = if p.layer == FILM {
                Channel::AbsorbedFilm
            } else {
                Channel::AbsorbedSubstrate
            };
            score.add(channel, absorbed);
            p.weight -= absorbed;
        }
        if layer.mu_s > 0.0 {
            tau -= s * layer.mu_s;
        }
        p.time_ps += s * layer.n / SPEED_OF_LIGHT_CM_PER_PS;

        match event {
            Event::Scatter => {
                tau = 0.0;
                p.dir = scatter::scatter_hg(p.dir, layer.g, rng);
            }
            Event::Plane(Plane::Face { down }) => {
                match meet_face(stack, p.layer, down, &mut p.pos, &mut p.dir, rng) {
                    Outcome::Entered(next) => p.layer = next,
                    Outcome::LeftTop => return leave(p, Channel::Top, score, tally),
                    Outcome::LeftBottom => return leave(p, Channel::Bottom, score, tally),
                    Outcome::Reflected | Outcome::LeftEdge { .. } => {}
                }
            }
            Event::Plane(Plane::Edge { axis, plus }) => {
                if let Outcome::LeftEdge { .. } =
                    meet_edge(stack, axis, plus, &mut p.pos, &mut p.dir, rng)
                {
                    return leave(p, edge_channel(axis, plus), score, tally);
                }
            }
        }

        if p.weight < roulette.threshold {
            if rng.uniform() < roulette.survival {
                p.weight /= roulette.survival;
            } else {
                return;
            }
        }
    }
    score.add(Channel::Unresolved, p.weight);
}
