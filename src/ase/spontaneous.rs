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
//! one sub-packet in the cone of that half-angle around +x, the stripe's axis toward
//! the detector, and one in the rest of the sphere, each uniform within its stratum and
//! weighted by the stratum's share of isotropic emission, (1 − cos θ)/2 and its
//! complement. The total is exact and the estimate unbiased, and the light that runs
//! along the stripe to the detector, which carries ASE, is sampled 2/(1 − cos θ) times
//! more densely than by isotropic packets.

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

/// Launch `count` packets of `weight` photons each from a cell's platelets during the
/// step [t0, t1); photons outside the spectral window are booked, not followed.
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
    let total = tree.total();
    for _ in 0..count {
        ledger.spontaneous += weight;
        let Some(i) = tree.find(rng.uniform() * total) else {
            ledger.outside_window += weight;
            continue;
        };
        let p = &platelets[i];
        let line = setup.optics.emission_energy(p.energy_ev, p.n);
        let e = line + setup.optics.line.sample_offset(rng);
        let time_ps = t0 + rng.uniform() * (t1 - t0);
        let Some(bin) = setup.spectrum.bin_of_energy(e) else {
            ledger.outside_window += weight;
            continue;
        };
        let packet = |dir: [f64; 3], weight: f64| AsePacket {
            pos: p.pos,
            dir,
            weight,
            birth_weight: weight,
            bin: bin as u32,
            layer: FILM,
            time_ps,
            id: 0,
            fate: Fate::Alive,
        };
        match setup.axial_cone_cos {
            // One sub-packet in the cone around +x and one in the rest of the sphere,
            // each carrying its stratum's share of the isotropic emission.
            Some(cone_cos) => {
                let share = 0.5 * (1.0 - cone_cos);
                let azimuth = rng.uniform();
                let axial = 1.0 - (1.0 - cone_cos) * rng.uniform();
                born.push(packet(about_x(axial, azimuth), weight * share));
                let azimuth = rng.uniform();
                let rest = -1.0 + (1.0 + cone_cos) * rng.uniform();
                born.push(packet(about_x(rest, azimuth), weight * (1.0 - share)));
            }
            None => born.push(packet(
                scatter::isotropic(rng.uniform(), rng.uniform()),
                weight,
            )),
        }
    }
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
