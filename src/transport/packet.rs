//! Following one photon packet through the layered slab until it leaves, is absorbed,
//! is found trapped, or loses Russian roulette: the passive transport's walk of the
//! mover (`mover::walk`).
//!
//! Absorption is continuous: along a path element s the weight falls by
//! exp(−µa·s) and the difference is booked as absorbed where it happened. Scattering
//! distances are sampled from µs alone. Interfaces reflect or transmit stochastically
//! with the unpolarised Fresnel reflectance, which is unbiased for every tally.

use super::geometry::{FILM, Layer, Stack, TrappedFate};
use super::mover::{self, End, Left, Walk};
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

/// A passive packet's walk: absorbed continuously where it goes, no time limit,
/// roulette against an absolute weight.
struct Passive<'a> {
    roulette: Roulette,
    p: &'a mut Packet,
    score: &'a mut PhotonScore,
    tally: &'a mut Tally,
}

impl Walk for Passive<'_> {
    #[inline(always)]
    fn ray(&mut self) -> (&mut [f64; 3], &mut [f64; 3], &mut usize) {
        (&mut self.p.pos, &mut self.p.dir, &mut self.p.layer)
    }

    #[inline(always)]
    fn segment(&mut self) {
        self.tally.steps += 1;
    }

    #[inline(always)]
    fn budget(&self, _layer: &Layer) -> f64 {
        f64::INFINITY
    }

    #[inline(always)]
    fn folds(&self) -> bool {
        false
    }

    #[inline(always)]
    fn cell(&self) -> (f64, Option<usize>) {
        (f64::INFINITY, None)
    }

    #[inline(always)]
    fn travel(&mut self, s: f64, layer: &Layer, _cell: Option<usize>) {
        let p = &mut *self.p;
        if layer.mu_a > 0.0 {
            let absorbed = p.weight * (-(-layer.mu_a * s).exp_m1());
            let channel = if p.layer == FILM {
                Channel::AbsorbedFilm
            } else {
                Channel::AbsorbedSubstrate
            };
            self.score.add(channel, absorbed);
            p.weight -= absorbed;
        }
        p.time_ps += s * layer.n / SPEED_OF_LIGHT_CM_PER_PS;
    }

    #[inline(always)]
    fn roulette(&mut self, rng: &mut Stream) -> bool {
        if self.p.weight < self.roulette.threshold {
            if rng.uniform() < self.roulette.survival {
                self.p.weight /= self.roulette.survival;
            } else {
                return false;
            }
        }
        true
    }
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
    let mut walk = Passive {
        roulette,
        p,
        score,
        tally,
    };
    let end = mover::walk(stack, &mut walk, rng, MAX_INTERACTIONS);
    let exit = match end {
        End::Left(Left::Top) => Channel::Top,
        End::Left(Left::Bottom) => Channel::Bottom,
        End::Left(Left::Edge { axis, plus, .. }) => edge_channel(axis, plus),
        End::Died => return,
        End::Budget | End::NowhereToGo | End::GaveUp => {
            score.add(Channel::Unresolved, p.weight);
            return;
        }
    };
    leave(p, exit, score, tally);
}
