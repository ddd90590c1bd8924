//! The one photon mover of the CPU, serving the passive transport (`packet::trace`) and
//! the ASE engine (`ase::photons::advance`). A packet runs straight to the nearest
//! event: a face of its layer or a film edge, a scattering, and what its walk adds (the
//! end of its time step, a cell plane of the film); it is reflected or refracted at
//! faces and edges with the Fresnel reflectance, turned by Henyey–Greenstein at a
//! scattering, and plays Russian roulette after every event. What its weight does
//! along a path, how far it may go, whether its zigzag in the film is folded and how
//! roulette is played are the walk's ([`Walk`]); where it ends is returned ([`End`]).

use super::geometry::{Layer, Stack};
use super::interfaces::{Outcome, Plane, meet_edge, meet_face, nearest_edge, nearest_plane};
use super::scatter;
use crate::rng::Stream;

/// Where a packet left the stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Left {
    /// Through the top, into the cover.
    Top,
    /// Through the bottom.
    Bottom,
    /// Through the film edge normal to `axis` on its `plus` side, at `cos_out` to the
    /// edge's outward normal.
    Edge {
        axis: usize,
        plus: bool,
        cos_out: f64,
    },
}

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    /// The packet left the stack.
    Left(Left),
    /// It reached the end of the path its walk allows (its time step's end).
    Budget,
    /// It lost Russian roulette.
    Died,
    /// No plane lies ahead of it (a ray parallel to the faces of a laterally infinite
    /// film).
    NowhereToGo,
    /// It took the most segments a walk allows.
    GaveUp,
}

/// What a walk adds to the mover: the packet and what happens to it.
pub trait Walk {
    /// The packet's position (cm), unit direction and layer.
    fn ray(&mut self) -> (&mut [f64; 3], &mut [f64; 3], &mut usize);
    /// A segment begins.
    fn segment(&mut self);
    /// The longest path (cm) the packet may take in `layer` before the walk stops it.
    fn budget(&self, layer: &Layer) -> f64;
    /// Whether the packet is a film ray whose zigzag between two totally reflecting
    /// faces is followed by folding it, up to the next edge or cell plane.
    fn folds(&self) -> bool;
    /// The distance to the nearest cell plane ahead inside the film, and the packet's
    /// cell; `(∞, None)` where the walk has no cells or the packet is not in the film.
    fn cell(&self) -> (f64, Option<usize>);
    /// The packet moved a path `s` through `layer` (in `cell`): its weight and age.
    fn travel(&mut self, s: f64, layer: &Layer, cell: Option<usize>);
    /// Russian roulette after an event; false where the packet dies.
    fn roulette(&mut self, rng: &mut Stream) -> bool;
}

/// The nearest event on the packet's straight path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Budget,
    Scatter,
    Plane(Plane),
    CellPlane,
}

/// Move the packet of `w` through `stack` until it leaves, dies, reaches its walk's
/// end or has taken `max_segments` segments, drawing from `rng`.
/// Inlined into each walk's caller, where the walk's fields and the packet become
/// the caller's own: 2.3 % fewer instructions for an ASE point (callgrind,
/// docs/performance.md), 0.3 % more for the passive transport.
#[inline(always)]
pub fn walk(stack: &Stack, w: &mut impl Walk, rng: &mut Stream, max_segments: u32) -> End {
    // Remaining scattering optical depth; sampled when it runs out.
    let mut tau = 0.0;
    for _ in 0..max_segments {
        w.segment();
        let layer = {
            let (_, _, l) = w.ray();
            stack.layers[*l]
        };
        if layer.mu_s > 0.0 && tau <= 0.0 {
            tau = -rng.uniform().ln();
        }
        // Distances to the possible events.
        let mut s = w.budget(&layer);
        let mut event = Event::Budget;
        let consider = |d: f64, e: Event, s: &mut f64, event: &mut Event| {
            if d < *s {
                *s = d.max(0.0);
                *event = e;
            }
        };
        let folded = w.folds();
        let (to_plane, plane) = {
            let (pos, dir, l) = w.ray();
            if folded {
                nearest_edge(stack, pos, dir)
            } else {
                nearest_plane(stack, *l, pos, dir)
            }
        };
        consider(to_plane, Event::Plane(plane), &mut s, &mut event);
        let (to_cell, cell) = w.cell();
        consider(to_cell, Event::CellPlane, &mut s, &mut event);
        if layer.mu_s > 0.0 {
            consider(tau / layer.mu_s, Event::Scatter, &mut s, &mut event);
        }
        if !s.is_finite() {
            return End::NowhereToGo;
        }

        // Move; the walk books the path.
        {
            let (pos, dir, _) = w.ray();
            if folded {
                pos[0] += s * dir[0];
                pos[1] += s * dir[1];
                (pos[2], dir[2]) = stack.fold_in_film(pos[2], dir[2], s);
            } else {
                for k in 0..3 {
                    pos[k] += s * dir[k];
                }
            }
        }
        if layer.mu_s > 0.0 {
            tau -= s * layer.mu_s;
        }
        w.travel(s, &layer, cell);

        let (pos, dir, l) = w.ray();
        match event {
            Event::Budget => return End::Budget,
            Event::CellPlane => {}
            Event::Scatter => {
                tau = 0.0;
                *dir = scatter::scatter_hg(*dir, layer.g, rng);
            }
            Event::Plane(Plane::Face { down }) => match meet_face(stack, *l, down, pos, dir, rng) {
                Outcome::Entered(next) => *l = next,
                Outcome::LeftTop => return End::Left(Left::Top),
                Outcome::LeftBottom => return End::Left(Left::Bottom),
                Outcome::Reflected | Outcome::LeftEdge { .. } => {}
            },
            Event::Plane(Plane::Edge { axis, plus }) => {
                if let Outcome::LeftEdge { cos_out } = meet_edge(stack, axis, plus, pos, dir, rng) {
                    return End::Left(Left::Edge {
                        axis,
                        plus,
                        cos_out,
                    });
                }
            }
        }
        if !w.roulette(rng) {
            return End::Died;
        }
    }
    End::GaveUp
}
