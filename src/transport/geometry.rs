//! The layered slab in internal units: film (layer 0), an optional finite substrate
//! (layer 1), the cover above and the exit medium below. z points down into the stack
//! and is 0 at the film's top surface; x runs along the film's length (the stripe
//! axis), y across it. Only the film has lateral edges; the substrate is laterally
//! infinite.

use super::fresnel;
use crate::config::Config;
use crate::units::{nm_to_cm, um_to_cm};

/// One layer of the stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    /// Top and bottom z, cm.
    pub z_top: f64,
    pub z_bottom: f64,
    pub n: f64,
    /// Absorption coefficient, cm⁻¹.
    pub mu_a: f64,
    /// Scattering coefficient, cm⁻¹.
    pub mu_s: f64,
    /// Henyey–Greenstein anisotropy.
    pub g: f64,
}

/// Index of the film in [`Stack::layers`].
pub const FILM: usize = 0;
/// Index of a finite substrate in [`Stack::layers`].
pub const SUBSTRATE: usize = 1;

/// What lies beyond a z boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Beyond {
    /// Another layer of the stack.
    Layer(usize),
    /// The cover: the packet leaves through the top.
    Top(f64),
    /// The medium below the stack: the packet leaves through the bottom.
    Bottom(f64),
}

/// Where a trapped packet's weight ends up (see [`Stack::trapped_fate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrappedFate {
    /// Totally internally reflected for ever in lossless layers.
    Guided,
    /// Eventually absorbed in this layer, the only absorbing one it can reach.
    AbsorbedIn(usize),
}

/// The slab geometry and optics.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub layers: Vec<Layer>,
    pub n_cover: f64,
    /// Index below the stack: the semi-infinite substrate, or the backside medium.
    pub n_below: f64,
    /// Half the film's length and width, cm (infinite for a laterally infinite film).
    pub half_length: f64,
    pub half_width: f64,
}

fn half_extent_cm(extent_um: f64) -> f64 {
    if extent_um > 0.0 {
        0.5 * um_to_cm(extent_um)
    } else {
        f64::INFINITY
    }
}

impl Stack {
    pub fn from_config(c: &Config) -> Self {
        let d = nm_to_cm(c.film.thickness_nm);
        let mut layers = vec![Layer {
            z_top: 0.0,
            z_bottom: d,
            n: c.film.refractive_index,
            mu_a: c.film.absorption_per_cm,
            mu_s: c.film.scattering_per_cm,
            g: c.film.anisotropy,
        }];
        let s = &c.substrate;
        let n_below = if s.thickness_um > 0.0 {
            layers.push(Layer {
                z_top: d,
                z_bottom: d + um_to_cm(s.thickness_um),
                n: s.refractive_index,
                mu_a: s.absorption_per_cm,
                mu_s: s.scattering_per_cm,
                g: s.anisotropy,
            });
            s.backside_refractive_index
        } else {
            s.refractive_index
        };
        Self {
            layers,
            n_cover: c.cover.refractive_index,
            n_below,
            half_length: half_extent_cm(c.film.length_um),
            half_width: half_extent_cm(c.film.width_um),
        }
    }

    pub fn film(&self) -> &Layer {
        &self.layers[FILM]
    }

    pub fn laterally_infinite(&self) -> bool {
        self.half_length.is_infinite() && self.half_width.is_infinite()
    }

    /// Is (x, y) over the film?
    pub fn over_film(&self, x: f64, y: f64) -> bool {
        x.abs() <= self.half_length && y.abs() <= self.half_width
    }

    /// Is a packet in the film with direction cosine `uz` totally reflected at both
    /// of its faces (a guided ray, whose path zigzags between them for good)?
    pub fn film_guides(&self, uz: f64) -> bool {
        let film = self.film();
        let below = self.layers.get(SUBSTRATE).map_or(self.n_below, |s| s.n);
        [self.n_cover, below].into_iter().all(|n2| {
            fresnel::interface(film.n, n2, uz.abs())
                .cos_transmitted
                .is_none()
        })
    }

    /// Fold the straight path z0 + uz·s of a guided ray back between the film's faces
    /// (each face a mirror): the ray's depth and direction cosine after path `s`.
    pub fn fold_in_film(&self, z0: f64, uz: f64, s: f64) -> (f64, f64) {
        let film = self.film();
        let d = film.z_bottom - film.z_top;
        let u = (z0 - film.z_top + uz * s).rem_euclid(2.0 * d);
        if u <= d {
            (film.z_top + u, uz)
        } else {
            (film.z_top + 2.0 * d - u, -uz)
        }
    }

    /// What lies beyond the top (`down = false`) or bottom (`down = true`) of `layer`
    /// at lateral position (x, y).
    pub fn beyond(&self, layer: usize, down: bool, x: f64, y: f64) -> Beyond {
        match (layer, down) {
            (FILM, false) => Beyond::Top(self.n_cover),
            (FILM, true) if self.layers.len() > 1 => Beyond::Layer(SUBSTRATE),
            (_, true) => Beyond::Bottom(self.n_below),
            (_, false) if self.over_film(x, y) => Beyond::Layer(FILM),
            (_, false) => Beyond::Top(self.n_cover),
        }
    }

    /// Without scatterers, reflection and refraction at the stack's planes conserve
    /// the in-plane index β = n·sin θ, and reflection at a film edge only flips the
    /// sign of one direction component. A packet that no interface can ever let out is
    /// trapped by total internal reflection for good. This says where its weight
    /// goes, or `None` when it must be followed (it can escape, can reach a
    /// scatterer, or more than one absorbing layer shares its weight).
    pub fn trapped_fate(&self, layer: usize, dir: [f64; 3]) -> Option<TrappedFate> {
        if self.laterally_infinite() {
            self.trapped_in_infinite_stack(layer, dir)
        } else {
            self.trapped_in_film_box(layer, dir)
        }
    }

    /// A film with edges: trapped if the packet is totally reflected at the top, the
    /// bottom and every finite pair of edges (all facing the cover).
    fn trapped_in_film_box(&self, layer: usize, dir: [f64; 3]) -> Option<TrappedFate> {
        let film = self.film();
        if layer != FILM || film.mu_s > 0.0 {
            return None;
        }
        let below = self.layers.get(SUBSTRATE).map_or(self.n_below, |s| s.n);
        let [ux, uy, uz] = dir.map(|u| u * u * film.n * film.n);
        let z_trapped = ux + uy >= self.n_cover.powi(2) && ux + uy >= below.powi(2);
        let x_trapped = self.half_length.is_infinite() || uy + uz >= self.n_cover.powi(2);
        let y_trapped = self.half_width.is_infinite() || ux + uz >= self.n_cover.powi(2);
        (z_trapped && x_trapped && y_trapped).then_some(if film.mu_a > 0.0 {
            TrappedFate::AbsorbedIn(FILM)
        } else {
            TrappedFate::Guided
        })
    }

    /// A laterally infinite stack: trapped if β reaches both exit media's indices.
    fn trapped_in_infinite_stack(&self, layer: usize, dir: [f64; 3]) -> Option<TrappedFate> {
        let beta = self.layers[layer].n * (dir[0] * dir[0] + dir[1] * dir[1]).sqrt();
        // The run of neighbouring layers the packet can propagate in (n > β).
        let last = self.layers.len() - 1;
        let mut lo = layer;
        while lo > 0 && self.layers[lo - 1].n > beta {
            lo -= 1;
        }
        let mut hi = layer;
        while hi < last && self.layers[hi + 1].n > beta {
            hi += 1;
        }
        let escapes_top = lo == FILM && beta < self.n_cover;
        let escapes_bottom = hi == last && beta < self.n_below;
        if escapes_top || escapes_bottom {
            return None;
        }
        let reachable: Vec<usize> = (lo..=hi).collect();
        if reachable.iter().any(|&i| self.layers[i].mu_s > 0.0) {
            return None;
        }
        let absorbing: Vec<usize> = reachable
            .into_iter()
            .filter(|&i| self.layers[i].mu_a > 0.0)
            .collect();
        match absorbing.as_slice() {
            [] => Some(TrappedFate::Guided),
            [one] => Some(TrappedFate::AbsorbedIn(*one)),
            _ => None,
        }
    }
}
