//! The named results of one ASE point (what `summary` and the HDF5 file show).

use super::engine::AseOutput;
use super::setup::AseSetup;
use super::tally::{EXITS, Exit};
use crate::result::{Array, PointResult, Scalar};
use crate::spectral::peak_and_fwhm;

fn scalar(name: &str, value: f64, units: &str) -> Scalar {
    Scalar {
        name: name.to_string(),
        value,
        stderr: None,
        units: units.to_string(),
    }
}

fn array(name: &str, shape: Vec<usize>, data: Vec<f64>, units: &str, description: &str) -> Array {
    Array {
        name: name.to_string(),
        shape,
        data,
        units: units.to_string(),
        attributes: vec![("description".into(), description.into())],
    }
}

/// Convert an engine run into named scalars and arrays.
pub fn point_result(setup: &AseSetup, out: &AseOutput, wall_time_s: f64) -> PointResult {
    let nm = setup.spectrum.centres_nm();
    let mut scalars = exit_scalars(&nm, out);
    push_ledger_scalars(&mut scalars, setup, out);

    let mut arrays = axis_and_exit_arrays(setup, out, &nm);
    push_snapshot_arrays(&mut arrays, setup, out, &nm);
    PointResult {
        scalars,
        arrays,
        photons: out.packets,
        photon_steps: out.photon_segments,
        wall_time_s,
    }
}

/// Photons out of each exit, with the spectral peak and FWHM of the detector and surface exits.
fn exit_scalars(nm: &[f64], out: &AseOutput) -> Vec<Scalar> {
    let l = &out.ledger;
    let mut scalars = Vec::new();
    for exit in EXITS {
        let spectrum = out.tally.spectrum_of(exit);
        scalars.push(scalar(
            &format!("{}_photons", exit.name()),
            l.exits[exit as usize],
            "photons",
        ));
        if matches!(exit, Exit::Detector | Exit::Surface) {
            let (peak, fwhm) = peak_and_fwhm(nm, spectrum).unwrap_or((f64::NAN, f64::NAN));
            scalars.push(scalar(&format!("{}_peak_nm", exit.name()), peak, "nm"));
            scalars.push(scalar(&format!("{}_fwhm_nm", exit.name()), fwhm, "nm"));
        }
    }
    scalars
}

/// Append the energy balance, the ledger's photon and exciton counts and the run's sizes.
fn push_ledger_scalars(scalars: &mut Vec<Scalar>, setup: &AseSetup, out: &AseOutput) {
    let l = &out.ledger;
    let balance = if setup.frozen {
        f64::NAN
    } else {
        l.balance_error()
    };
    for (name, value, units) in [
        (
            "mean_excitons_initial",
            out.mean_excitons_initial,
            "excitons per platelet",
        ),
        ("energy_balance_error", balance, "fraction of pump excitons"),
        ("pump_excitons", l.pump_excitons, "excitons"),
        ("spontaneous_photons", l.spontaneous, "photons"),
        ("outside_window_photons", l.outside_window, "photons"),
        ("stimulated_photons", l.stimulated, "photons"),
        ("absorbed_photons", l.absorbed, "photons"),
        ("background_photons", l.background, "photons"),
        ("nonradiative_excitons", l.nonradiative, "excitons"),
        ("auger_excitons", l.auger, "excitons"),
        ("excitons_left", l.excitons_left, "excitons"),
        ("in_flight_photons", l.in_flight, "photons"),
        ("roulette_net_photons", l.roulette_net, "photons"),
        (
            "pending_stimulated_photons",
            l.pending_stimulated,
            "photons",
        ),
        ("pending_absorbed_photons", l.pending_absorbed, "photons"),
        ("pending_radiative_photons", l.pending_radiative, "photons"),
        (
            "unbooked_stimulated_photons",
            l.unbooked_stimulated,
            "photons",
        ),
        ("unbooked_absorbed_photons", l.unbooked_absorbed, "photons"),
        ("clamped_photons", l.clamped, "photons"),
        (
            "platelet_weight",
            setup.platelet_weight,
            "platelets per sampled platelet",
        ),
        ("sampled_platelets", out.platelets as f64, "platelets"),
        (
            "pump_mean_excitons",
            setup.pump.mean_excitons,
            "excitons per platelet",
        ),
        ("time_steps", out.steps as f64, "steps"),
        ("photon_packets", out.packets as f64, "packets"),
    ] {
        scalars.push(scalar(name, value, units));
    }
}

/// The wavelength and time axes, then each exit's spectrum and time trace.
fn axis_and_exit_arrays(setup: &AseSetup, out: &AseOutput, nm: &[f64]) -> Vec<Array> {
    let time_bins = setup.time_bins;
    let dt = setup.duration_ps / time_bins as f64;
    let mut arrays = vec![
        array(
            "wavelength_nm",
            vec![nm.len()],
            nm.to_vec(),
            "nm",
            "centres of the spectral bins",
        ),
        array(
            "time_ps",
            vec![time_bins],
            (0..time_bins).map(|i| (i as f64 + 0.5) * dt).collect(),
            "ps",
            "centres of the time bins of the time traces",
        ),
    ];
    for exit in EXITS {
        arrays.push(array(
            &format!("{}_spectrum", exit.name()),
            vec![nm.len()],
            out.tally.spectrum_of(exit).to_vec(),
            "photons per bin",
            "photons leaving through this exit, by wavelength",
        ));
        arrays.push(array(
            &format!("{}_time_trace", exit.name()),
            vec![time_bins],
            out.tally.trace_of(exit).to_vec(),
            "photons per bin",
            "photons leaving through this exit, by time",
        ));
    }
    arrays
}

/// Append the snapshot times, the exciton-number populations and the gain spectra.
fn push_snapshot_arrays(arrays: &mut Vec<Array>, setup: &AseSetup, out: &AseOutput, nm: &[f64]) {
    let width = out
        .populations
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(1)
        .max(setup.optics.degeneracy as usize + 1);
    let pops: Vec<f64> = out
        .populations
        .iter()
        .flat_map(|row| (0..width).map(move |n| row.get(n).copied().unwrap_or(0.0)))
        .collect();
    let snapshots = out.snapshot_ps.len();
    arrays.push(array(
        "snapshot_time_ps",
        vec![snapshots],
        out.snapshot_ps.clone(),
        "ps",
        "times of the population and gain snapshots",
    ));
    arrays.push(array(
        "populations",
        vec![snapshots, width],
        pops,
        "fraction of platelets",
        "fraction of the stripe's platelets holding n excitons (columns n = 0, 1, …) at each snapshot",
    ));
    arrays.push(array(
        "gain_spectrum",
        vec![snapshots, nm.len()],
        out.gain.iter().flatten().copied().collect(),
        "cm^-1",
        "net material gain of the platelets at the stripe centre at each snapshot",
    ));
}
