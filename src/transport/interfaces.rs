//! What a packet does where its straight path meets a plane of the stack: a layer's
//! top or bottom face, or a film edge. It is reflected or transmitted at random with
//! the unpolarised Fresnel reflectance (always reflected under total internal
//! reflection); transmission refracts it (Snell) into the next layer or out of the
//! stack. Shared by the passive transport and the ASE engine.

use super::fresnel;
use super::geometry::{Beyond, FILM, Stack};
use crate::rng::Stream;

/// A plane of the stack a packet can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// The top (`down = false`) or bottom face of the packet's layer.
    Face { down: bool },
    /// The film edge normal to `axis` (0: x, 1: y) on its `plus` side.
    Edge { axis: usize, plus: bool },
}

/// Distance (cm, ≥ 0) to the nearest face of `layer`, or, in the film, film edge,
/// along the direction `dir` from `pos`; infinite for a packet running parallel to
/// the faces of a laterally infinite film.
pub fn nearest_plane(stack: &Stack, layer: usize, pos: &[f64; 3], dir: &[f64; 3]) -> (f64, Plane) {
    let here = stack.layers[layer];
    let uz = dir[2];
    let s = if uz > 0.0 {
        (here.z_bottom - pos[2]) / uz
    } else if uz < 0.0 {
        (here.z_top - pos[2]) / uz
    } else {
        f64::INFINITY
    }
    .max(0.0);
    let face = Plane::Face { down: uz > 0.0 };
    if layer == FILM {
        let (d, edge) = nearest_edge(stack, pos, dir);
        if d < s {
            return (d, edge);
        }
    }
    (s, face)
}

/// Distance (cm, ≥ 0) to the nearest film edge along `dir` from `pos` (infinite when
/// the packet runs towards no finite edge).
pub fn nearest_edge(stack: &Stack, pos: &[f64; 3], dir: &[f64; 3]) -> (f64, Plane) {
    let mut s = f64::INFINITY;
    let mut plane = Plane::Edge {
        axis: 0,
        plus: true,
    };
    for (axis, half) in [stack.half_length, stack.half_width]
        .into_iter()
        .enumerate()
    {
        let u = dir[axis];
        if half.is_finite() && u != 0.0 {
            let plus = u > 0.0;
            let target = if plus { half } else { -half };
            let d = ((target - pos[axis]) / u).max(0.0);
            if d < s {
                s = d;
                plane = Plane::Edge { axis, plus };
            }
        }
    }
    (s, plane)
}

/// The outcome of meeting a plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Reflected; the direction is mirrored.
    Reflected,
    /// Refracted into another layer of the stack.
    Entered(usize),
    /// Left through the top (into the cover).
    LeftTop,
    /// Left through the bottom.
    LeftBottom,
    /// Left through a film edge; `cos_out` is the cosine between the outgoing
    /// direction and the edge's outward normal.
    LeftEdge { cos_out: f64 },
}

/// Meet the top (`down = false`) or bottom face of `layer`: the packet is put on the
/// face, and its direction reflected or refracted.
pub fn meet_face(
    stack: &Stack,
    layer: usize,
    down: bool,
    pos: &mut [f64; 3],
    dir: &mut [f64; 3],
    rng: &mut Stream,
) -> Outcome {
    let here = stack.layers[layer];
    pos[2] = if down { here.z_bottom } else { here.z_top };
    let beyond = stack.beyond(layer, down, pos[0], pos[1]);
    let n2 = match beyond {
        Beyond::Layer(next) => stack.layers[next].n,
        Beyond::Top(n) | Beyond::Bottom(n) => n,
    };
    let [ux, uy, uz] = *dir;
    let crossing = fresnel::interface(here.n, n2, uz.abs());
    match crossing.cos_transmitted {
        Some(cos_t) if rng.uniform() >= crossing.reflectance => {
            let ratio = here.n / n2;
            *dir = [ux * ratio, uy * ratio, cos_t * uz.signum()];
            match beyond {
                Beyond::Layer(next) => Outcome::Entered(next),
                Beyond::Top(_) => Outcome::LeftTop,
                Beyond::Bottom(_) => Outcome::LeftBottom,
            }
        }
        _ => {
            dir[2] = -uz;
            Outcome::Reflected
        }
    }
}

/// Meet the film edge normal to `axis` (0: x, 1: y) on its `plus` side; beyond every
/// edge is the cover medium.
pub fn meet_edge(
    stack: &Stack,
    axis: usize,
    plus: bool,
    pos: &mut [f64; 3],
    dir: &mut [f64; 3],
    rng: &mut Stream,
) -> Outcome {
    let half = if axis == 0 {
        stack.half_length
    } else {
        stack.half_width
    };
    pos[axis] = if plus { half } else { -half };
    let crossing = fresnel::interface(stack.film().n, stack.n_cover, dir[axis].abs());
    match crossing.cos_transmitted {
        Some(cos_out) if rng.uniform() >= crossing.reflectance => Outcome::LeftEdge { cos_out },
        _ => {
            dir[axis] = -dir[axis];
            Outcome::Reflected
        }
    }
}
