//! Spontaneous emission, the seed light of ASE.
//!
//! In a step of length dt the platelets of a cell emit on average
//! R_c = k_r·Σᵢnᵢ·w·dt real photons (nᵢ at the step's start, w the platelet weight).
//! That expected emission is launched as packets of equal weight: a fixed number per
//! step over the whole film, shared among the cells in proportion to R_c by systematic
//! sampling. Each packet starts at a platelet drawn in proportion to its radiative rate
//! nᵢ·k_r, at a uniform time within the step, isotropically, with a photon energy from
//! that platelet's emission line. The excitons the emission uses up are booked against
//! the cell's platelets as whole sampled excitons, each drawn in proportion to nᵢ, with
//! the sub-exciton remainder carried to the next step, exactly as stimulated emission is
//! booked. So the seed light is sampled densely in time, position, direction and
//! wavelength, however few sampled platelets decay within a step, and photons and
//! excitons balance exactly.
//!
//! Directions are stratified (`run.axial_cone_deg` > 0): each emitted packet becomes
//! one sub-packet in the two cones of that half-angle around ±x, the stripe's axis,
//! and one in the rest of the sphere, each uniform within its stratum and weighted by
//! the stratum's share of isotropic emission, 1 − cos θ and cos θ. The total is exact
//! (and with frozen populations every estimate unbiased), and the light that runs along
//! the stripe is sampled 1/(1 − cos θ) times more densely than by isotropic packets.
//! Both directions along the stripe get the same density, because the beam running
//! away from the detector depletes the same gain as the one running toward it. Above
//! threshold the populations follow the packets and a finite budget is biased; the
//! cones bias it more than isotropic packets do (docs/performance.md), so they are off
//! by default.
//!
//! A packet is drawn ([`draw`]: platelet, photon bin, time, directions) and then made
//! ([`emit`]: packets and ledger); where the platelets are kept on a device, the device
//! draws (`shaders/spontaneous_emission.wgsl`) and the host makes the packets the same
//! way.

use super::exchange::{Booking, Moved};
use super::photons::{AsePacket, Fate};
use super::platelets::{GainFollower, Platelet};
use super::setup::AseSetup;
use super::tally::Ledger;
use super::weight_tree::WeightTree;
use crate::rng::Stream;
use crate::transport::geometry::FILM;
use crate::transport::scatter;

/// Real photons a cell's platelets emit spontaneously in `dt` ps, when they hold
/// `excitons` sampled excitons.
pub fn cell_emission(setup: &AseSetup, excitons: u64, dt: f64) -> f64 {
    excitons as f64 * setup.kinetics.k_rad * setup.platelet_weight * dt
}

/// Share `packets` among the cells in proportion to `emission` by systematic sampling
/// (one uniform `u` in [0, 1) places the whole comb): every cell gets the floor or the
/// ceiling of its expected share, and cells that emit nothing get none.
pub fn allocate(emission: &[f64], packets: u32, u: f64) -> Vec<u32> {
    let mut counts = vec![0; emission.len()];
    let total: f64 = emission.iter().sum();
    if packets == 0 || total <= 0.0 {
        return counts;
    }
    let spacing = total / f64::from(packets);
    let last = emission.iter().rposition(|&e| e > 0.0).unwrap_or(0);
    let mut cell = 0;
    let mut upper = emission[0];
    for k in 0..packets {
        let at = (f64::from(k) + u) * spacing;
        while at >= upper && cell < last {
            cell += 1;
            upper += emission[cell];
        }
        counts[cell] += 1;
    }
    counts
}

/// What was drawn for one spontaneous-emission packet of a cell: its platelet (index
/// within the cell; `None`: the cell held no exciton), its spectral bin (`None`:
/// outside the window, nothing more drawn), the fraction of the step at which it
/// starts, and its direction: with cones (`run.axial_cone_deg`), that of the
/// sub-packet in the cones around ±x and that of the one in the rest of the sphere,
/// else one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    pub platelet: Option<usize>,
    pub bin: Option<u32>,
    pub time_fraction: f64,
    pub dirs: [[f64; 3]; 2],
}

/// Draw one packet from a cell's platelets (`tree` their exciton counts) as
/// [`launch`] does: its platelet in proportion to its count, a photon energy from its
/// emission line, a time and a direction (two with a cone).
pub fn draw(setup: &AseSetup, platelets: &[Platelet], tree: &WeightTree, rng: &mut Stream) -> Draw {
    let mut d = Draw {
        platelet: tree.find(rng.uniform() * tree.total()),
        bin: None,
        time_fraction: 0.0,
        dirs: [[0.0; 3]; 2],
    };
    let Some(i) = d.platelet else {
        return d;
    };
    let p = &platelets[i];
    let line = setup.optics.emission_energy(p.energy_ev, p.n);
    let e = line + setup.optics.line.sample_offset(rng);
    d.time_fraction = rng.uniform();
    d.bin = setup.spectrum.bin_of_energy(e).map(|b| b as u32);
    if d.bin.is_some() {
        d.dirs = match setup.axial_cone_cos {
            Some(cone_cos) => {
                let azimuth = rng.uniform();
                let in_cones = about_x(in_cones_cos(cone_cos, rng.uniform()), azimuth);
                let azimuth = rng.uniform();
                let rest = about_x(rest_cos(cone_cos, rng.uniform()), azimuth);
                [in_cones, rest]
            }
            None => [scatter::isotropic(rng.uniform(), rng.uniform()), [0.0; 3]],
        };
    }
    d
}

/// The packets of `weight` photons that `draw` makes from a cell's `platelets` during
/// the step [t0, t1), booked in the ledger: a packet drawn outside the spectral window
/// (or from a cell with no exciton) is booked, not followed.
pub fn emit(
    setup: &AseSetup,
    platelets: &[Platelet],
    draw: &Draw,
    weight: f64,
    (t0, t1): (f64, f64),
    born: &mut Vec<AsePacket>,
    ledger: &mut Ledger,
) {
    ledger.spontaneous += weight;
    let (Some(i), Some(bin)) = (draw.platelet, draw.bin) else {
        ledger.outside_window += weight;
        return;
    };
    let time_ps = t0 + draw.time_fraction * (t1 - t0);
    let packet = |dir: [f64; 3], weight: f64| AsePacket {
        pos: platelets[i].pos,
        dir,
        weight,
        birth_weight: weight,
        bin,
        layer: FILM,
        time_ps,
        id: 0,
        fate: Fate::Alive,
    };
    match setup.axial_cone_cos {
        // One sub-packet in the cones around ±x and one in the rest of the sphere,
        // each carrying its stratum's share of the isotropic emission.
        Some(cone_cos) => {
            let share = 1.0 - cone_cos;
            born.push(packet(draw.dirs[0], weight * share));
            born.push(packet(draw.dirs[1], weight * (1.0 - share)));
        }
        None => born.push(packet(draw.dirs[0], weight)),
    }
}

/// Launch `count` packets of `weight` photons each from a cell's platelets during the
/// step [t0, t1) ([`draw`], then [`emit`]).
#[allow(clippy::too_many_arguments)]
pub fn launch(
    setup: &AseSetup,
    platelets: &[Platelet],
    count: u32,
    weight: f64,
    t0: f64,
    t1: f64,
    rng: &mut Stream,
    born: &mut Vec<AsePacket>,
    ledger: &mut Ledger,
) {
    if count == 0 {
        return;
    }
    let tree = WeightTree::new(platelets.iter().map(|p| f64::from(p.n)).collect());
    for _ in 0..count {
        let d = draw(setup, platelets, &tree, rng);
        emit(setup, platelets, &d, weight, (t0, t1), born, ledger);
    }
}

/// The cosine to +x of a direction uniform within the two cones of cosine `cone_cos`
/// around +x and −x, from one uniform `u`: its lower half picks −x, its upper +x, and
/// the distance from ½ the cosine within the cone.
pub fn in_cones_cos(cone_cos: f64, u: f64) -> f64 {
    let s = 2.0 * u - 1.0;
    let magnitude = 1.0 - (1.0 - cone_cos) * s.abs();
    if s < 0.0 { -magnitude } else { magnitude }
}

/// The cosine to +x of a direction uniform outside the two cones of cosine `cone_cos`
/// around ±x, from one uniform `u`.
pub fn rest_cos(cone_cos: f64, u: f64) -> f64 {
    cone_cos * (2.0 * u - 1.0)
}

/// The unit vector at cosine `cos_x` to +x and azimuth 2π·`u_phi` around it.
fn about_x(cos_x: f64, u_phi: f64) -> [f64; 3] {
    let sin_x = (1.0 - cos_x * cos_x).max(0.0).sqrt();
    let (sin_phi, cos_phi) = (2.0 * std::f64::consts::PI * u_phi).sin_cos();
    [cos_x, sin_x * cos_phi, sin_x * sin_phi]
}

/// Book the whole sampled excitons of a cell's pending radiative decay (`pending`, real
/// photons emitted whose excitons are not yet removed) at time `t_now`, each against a
/// platelet drawn in proportion to its exciton count; the remainder stays pending.
/// `gain` follows the counts. Returns what the booking did to the platelets.
#[allow(clippy::too_many_arguments)]
pub fn book_radiative(
    setup: &AseSetup,
    platelets: &mut [Platelet],
    gain: &mut GainFollower,
    pending: &mut f64,
    scale: f64,
    t_now: f64,
    rng: &mut Stream,
) -> Moved {
    let w = setup.platelet_weight;
    let whole = (*pending / w).floor();
    if whole < 1.0 {
        return Moved::NOTHING;
    }
    let mut booking = Booking::new(platelets);
    // Every exciton of the cell may be gone; the rest then waits for the next step.
    let left = booking.moves(setup, whole as u64, -1, |p| f64::from(p.n), t_now, rng);
    *pending -= (whole - left as f64) * w;
    booking.finish(setup, gain, scale)
}
