//! Launching packets: the pencil beam at normal incidence and isotropic emitters
//! spread through the film's depth.

use super::fresnel;
use super::geometry::{FILM, Stack};
use super::packet::Packet;
use super::scatter;
use super::tally::{Channel, PhotonScore};
use crate::rng::Stream;

/// The sources of the passive transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassiveSource {
    /// A pencil beam at normal incidence onto the film top.
    Pencil,
    /// Isotropic emitters in the film.
    Isotropic,
}

/// Where and how packets start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Launcher {
    pub kind: PassiveSource,
    /// Lateral position, cm.
    pub x: f64,
    pub y: f64,
    /// Isotropic source: depth below the film top, cm (`None`: uniform in depth).
    pub depth: Option<f64>,
}

impl Launcher {
    /// A new packet in the film; the pencil beam's specular reflection at the film top
    /// is booked at once (deterministically, as MCML does).
    pub fn launch(&self, stack: &Stack, rng: &mut Stream, score: &mut PhotonScore) -> Packet {
        let film = stack.film();
        match self.kind {
            PassiveSource::Pencil => {
                let r_specular = fresnel::normal_reflectance(stack.n_cover, film.n);
                score.add(Channel::Specular, r_specular);
                Packet {
                    pos: [self.x, self.y, film.z_top],
                    dir: [0.0, 0.0, 1.0],
                    weight: 1.0 - r_specular,
                    layer: FILM,
                    time_ps: 0.0,
                }
            }
            PassiveSource::Isotropic => {
                let z = match self.depth {
                    Some(depth) => film.z_top + depth,
                    None => film.z_top + rng.uniform() * (film.z_bottom - film.z_top),
                };
                let dir = scatter::isotropic(rng.uniform(), rng.uniform());
                Packet {
                    pos: [self.x, self.y, z],
                    dir,
                    weight: 1.0,
                    layer: FILM,
                    time_ps: 0.0,
                }
            }
        }
    }
}
