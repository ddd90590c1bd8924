//! The named results of one ASE point (what `summary` and the HDF5 file show), from
//! its independent replicas: every Monte Carlo scalar as the replicas' mean with its
//! standard error, the spectral peak and width from the pooled spectrum with jackknife
//! errors, every spectrum, time trace and snapshot as the mean with a `_stderr` array
//! beside it, and each replica's own scalars in `replica_results`.

use super::engine::AseOutput;
use super::replicas::{jackknife, mean_and_stderr, rows_mean_and_stderr};
use super::setup::AseSetup;
use super::tally::{EXITS, Exit};
use crate::result::{Array, PointResult, Scalar};
use crate::spectral::{interpolated_peak, peak_and_fwhm};

/// The scalar results of a point, in the order it lists them.
pub const RESULT_NAMES: [&str; 32] = [
    "edge_photons",
    "edge_peak_nm",
    "edge_fwhm_nm",
    "other_edges_photons",
    "surface_photons",
    "surface_peak_nm",
    "surface_fwhm_nm",
    "substrate_photons",
    "mean_excitons_initial",
    "energy_balance_error",
    "pump_excitons",
    "spontaneous_photons",
    "outside_window_photons",
    "stimulated_photons",
    "absorbed_photons",
    "background_photons",
    "nonradiative_excitons",
    "auger_excitons",
    "excitons_left",
    "in_flight_photons",
    "roulette_net_photons",
    "pending_stimulated_photons",
    "pending_absorbed_photons",
    "pending_radiative_photons",
    "unbooked_stimulated_photons",
    "unbooked_absorbed_photons",
    "clamped_photons",
    "platelet_weight",
    "sampled_platelets",
    "pump_mean_excitons",
    "time_steps",
    "photon_packets",
];

/// Whether `name` is a scalar result of a point that is estimated from its replicas
/// with a standard error (what `run.target_quantity` may name).
pub fn is_estimate(name: &str) -> bool {
    RESULT_NAMES.contains(&name) && !NOT_ESTIMATES.contains(&name)
}

/// The scalar results without a standard error: inputs the replicas share, and the
/// books' check (the worst replica's).
pub const NOT_ESTIMATES: [&str; 4] = [
    "energy_balance_error",
    "platelet_weight",
    "sampled_platelets",
    "pump_mean_excitons",
];

/// How the replicas' values of a scalar make the point's.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Combine {
    /// A Monte Carlo estimate: the mean, with its standard error.
    Mean,
    /// The peak (`true`) or FWHM of an exit's pooled spectrum, with a jackknife error.
    Spectral(Exit, bool),
    /// A check: the replica farthest from zero.
    Worst,
    /// An input the replicas share.
    Same,
}

/// One replica's value of a scalar result.
struct Item {
    name: String,
    value: f64,
    units: &'static str,
    combine: Combine,
}

fn item(name: &str, value: f64, units: &'static str, combine: Combine) -> Item {
    Item {
        name: name.to_string(),
        value,
        units,
        combine,
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

/// An array of replica means and, for two replicas or more, the array of their
/// standard errors beside it.
fn with_stderr(mean: Array, stderr: Vec<f64>, replicas: usize) -> Vec<Array> {
    if replicas < 2 {
        return vec![mean];
    }
    let err = Array {
        name: format!("{}_stderr", mean.name),
        data: stderr,
        attributes: vec![(
            "description".into(),
            format!("standard error of {} over the replicas", mean.name),
        )],
        ..mean.clone()
    };
    vec![mean, err]
}

/// Convert a point's replicas (at least one) into named scalars and arrays.
pub fn point_result(setup: &AseSetup, outs: &[AseOutput], wall_time_s: f64) -> PointResult {
    assert!(!outs.is_empty(), "a point has at least one replica");
    let nm = setup.spectrum.centres_nm();
    let per_replica: Vec<Vec<Item>> = outs.iter().map(|o| replica_items(setup, &nm, o)).collect();
    let mut scalars = combine_scalars(&nm, outs, &per_replica);
    scalars.push(Scalar {
        name: "replicas".into(),
        value: outs.len() as f64,
        stderr: None,
        units: "replicas".into(),
    });
    let mut arrays = axis_and_exit_arrays(setup, outs, &nm);
    push_snapshot_arrays(&mut arrays, setup, outs, &nm);
    arrays.push(replica_table(&per_replica));
    PointResult {
        scalars,
        arrays,
        photons: outs.iter().map(|o| o.packets).sum(),
        photon_steps: outs.iter().map(|o| o.photon_segments).sum(),
        wall_time_s,
        notes: distinct_notes(outs),
    }
}

/// The replicas' notes, each once, in the order they first appear.
fn distinct_notes(outs: &[AseOutput]) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    for note in outs.iter().flat_map(|o| o.notes.iter()) {
        if !notes.contains(note) {
            notes.push(note.clone());
        }
    }
    notes
}

/// The point's scalars from its replicas' items, each combined as its kind says.
fn combine_scalars(nm: &[f64], outs: &[AseOutput], per_replica: &[Vec<Item>]) -> Vec<Scalar> {
    per_replica[0]
        .iter()
        .enumerate()
        .map(|(k, first)| {
            let values: Vec<f64> = per_replica.iter().map(|r| r[k].value).collect();
            // One replica has no error to give.
            let err = |e: f64| (values.len() > 1).then_some(e);
            let (value, stderr) = match first.combine {
                Combine::Mean => {
                    let (m, e) = mean_and_stderr(&values);
                    (m, err(e))
                }
                Combine::Spectral(exit, peak) => {
                    let rows: Vec<&[f64]> =
                        outs.iter().map(|o| o.tally.spectrum_of(exit)).collect();
                    let (v, e) = jackknife(&rows, |pool| spectral(nm, pool, peak));
                    (v, err(e))
                }
                Combine::Worst => (
                    values.iter().copied().fold(0.0, |a: f64, v| {
                        if v.is_nan() || v.abs() > a.abs() {
                            v
                        } else {
                            a
                        }
                    }),
                    None,
                ),
                Combine::Same => (values[0], None),
            };
            Scalar {
                name: first.name.clone(),
                value,
                stderr,
                units: first.units.to_string(),
            }
        })
        .collect()
}

/// The interpolated peak (`peak`) or the FWHM of a spectrum.
fn spectral(nm: &[f64], spectrum: &[f64], peak: bool) -> Option<f64> {
    if peak {
        interpolated_peak(nm, spectrum)
    } else {
        peak_and_fwhm(nm, spectrum).map(|(_, fwhm)| fwhm)
    }
}

/// Every replica's own scalars, a row a replica.
fn replica_table(per_replica: &[Vec<Item>]) -> Array {
    let columns: Vec<&str> = per_replica[0].iter().map(|i| i.name.as_str()).collect();
    Array {
        name: crate::result::REPLICA_RESULTS.into(),
        shape: vec![per_replica.len(), columns.len()],
        data: per_replica.iter().flatten().map(|i| i.value).collect(),
        units: "as the scalar of each column".into(),
        attributes: vec![
            (
                "description".into(),
                "each replica's scalar results (rows: replicas; columns: as listed)".into(),
            ),
            ("columns".into(), columns.join(",")),
        ],
    }
}

/// One replica's scalars: the photons out of each exit (with the spectral peak and
/// FWHM of the detector and surface exits), the ledger, and the run's sizes.
fn replica_items(setup: &AseSetup, nm: &[f64], out: &AseOutput) -> Vec<Item> {
    let l = &out.ledger;
    let mut items = Vec::new();
    for exit in EXITS {
        let spectrum = out.tally.spectrum_of(exit);
        let peak = spectral(nm, spectrum, true).unwrap_or(f64::NAN);
        let fwhm = spectral(nm, spectrum, false).unwrap_or(f64::NAN);
        let name = exit.name();
        items.push(item(
            &format!("{name}_photons"),
            l.exits[exit as usize],
            "photons",
            Combine::Mean,
        ));
        if matches!(exit, Exit::Detector | Exit::Surface) {
            items.push(item(
                &format!("{name}_peak_nm"),
                peak,
                "nm",
                Combine::Spectral(exit, true),
            ));
            items.push(item(
                &format!("{name}_fwhm_nm"),
                fwhm,
                "nm",
                Combine::Spectral(exit, false),
            ));
        }
    }
    let balance = if setup.frozen {
        f64::NAN
    } else {
        l.balance_error()
    };
    use Combine::{Mean, Same, Worst};
    for (name, value, units, combine) in [
        (
            "mean_excitons_initial",
            out.mean_excitons_initial,
            "excitons per platelet",
            Mean,
        ),
        (
            "energy_balance_error",
            balance,
            "fraction of pump excitons",
            Worst,
        ),
        ("pump_excitons", l.pump_excitons, "excitons", Mean),
        ("spontaneous_photons", l.spontaneous, "photons", Mean),
        ("outside_window_photons", l.outside_window, "photons", Mean),
        ("stimulated_photons", l.stimulated, "photons", Mean),
        ("absorbed_photons", l.absorbed, "photons", Mean),
        ("background_photons", l.background, "photons", Mean),
        ("nonradiative_excitons", l.nonradiative, "excitons", Mean),
        ("auger_excitons", l.auger, "excitons", Mean),
        ("excitons_left", l.excitons_left, "excitons", Mean),
        ("in_flight_photons", l.in_flight, "photons", Mean),
        ("roulette_net_photons", l.roulette_net, "photons", Mean),
        (
            "pending_stimulated_photons",
            l.pending_stimulated,
            "photons",
            Mean,
        ),
        (
            "pending_absorbed_photons",
            l.pending_absorbed,
            "photons",
            Mean,
        ),
        (
            "pending_radiative_photons",
            l.pending_radiative,
            "photons",
            Mean,
        ),
        (
            "unbooked_stimulated_photons",
            l.unbooked_stimulated,
            "photons",
            Mean,
        ),
        (
            "unbooked_absorbed_photons",
            l.unbooked_absorbed,
            "photons",
            Mean,
        ),
        ("clamped_photons", l.clamped, "photons", Mean),
        (
            "platelet_weight",
            setup.platelet_weight,
            "platelets per sampled platelet",
            Same,
        ),
        ("sampled_platelets", out.platelets as f64, "platelets", Same),
        (
            "pump_mean_excitons",
            setup.pump.mean_excitons,
            "excitons per platelet",
            Same,
        ),
        ("time_steps", out.steps as f64, "steps", Mean),
        ("photon_packets", out.packets as f64, "packets", Mean),
    ] {
        items.push(item(name, value, units, combine));
    }
    items
}

/// The wavelength and time axes, then each exit's spectrum and time trace.
fn axis_and_exit_arrays(setup: &AseSetup, outs: &[AseOutput], nm: &[f64]) -> Vec<Array> {
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
        let spectra: Vec<&[f64]> = outs.iter().map(|o| o.tally.spectrum_of(exit)).collect();
        let (mean, err) = rows_mean_and_stderr(&spectra);
        arrays.extend(with_stderr(
            array(
                &format!("{}_spectrum", exit.name()),
                vec![nm.len()],
                mean,
                "photons per bin",
                "photons leaving through this exit, by wavelength",
            ),
            err,
            outs.len(),
        ));
        let traces: Vec<&[f64]> = outs.iter().map(|o| o.tally.trace_of(exit)).collect();
        let (mean, err) = rows_mean_and_stderr(&traces);
        arrays.extend(with_stderr(
            array(
                &format!("{}_time_trace", exit.name()),
                vec![time_bins],
                mean,
                "photons per bin",
                "photons leaving through this exit, by time",
            ),
            err,
            outs.len(),
        ));
    }
    arrays
}

/// Append the snapshot times, the exciton-number populations and the gain spectra.
fn push_snapshot_arrays(arrays: &mut Vec<Array>, setup: &AseSetup, outs: &[AseOutput], nm: &[f64]) {
    // A snapshot falls at the end of the first step past its due time, and the steps
    // adapt in each replica on its own: the replicas' snapshot times differ by up to a
    // step, and their mean is reported with its spread.
    let snapshots = outs.iter().map(|o| o.snapshot_ps.len()).min().unwrap_or(0);
    let times: Vec<&[f64]> = outs.iter().map(|o| &o.snapshot_ps[..snapshots]).collect();
    let width = outs
        .iter()
        .flat_map(|o| o.populations[..snapshots].iter().map(Vec::len))
        .max()
        .unwrap_or(1)
        .max(setup.optics.degeneracy as usize + 1);
    let pops: Vec<Vec<f64>> = outs
        .iter()
        .map(|o| {
            o.populations[..snapshots]
                .iter()
                .flat_map(|row| (0..width).map(move |n| row.get(n).copied().unwrap_or(0.0)))
                .collect()
        })
        .collect();
    let gains: Vec<Vec<f64>> = outs
        .iter()
        .map(|o| o.gain[..snapshots].iter().flatten().copied().collect())
        .collect();
    let (mean, err) = rows_mean_and_stderr(&times);
    arrays.extend(with_stderr(
        array(
            "snapshot_time_ps",
            vec![snapshots],
            mean,
            "ps",
            "times of the population and gain snapshots (the replicas' mean)",
        ),
        err,
        outs.len(),
    ));
    let (mean, err) = rows_mean_and_stderr(&pops.iter().map(Vec::as_slice).collect::<Vec<_>>());
    arrays.extend(with_stderr(
        array(
            "populations",
            vec![snapshots, width],
            mean,
            "fraction of platelets",
            "fraction of the stripe's platelets holding n excitons (columns n = 0, 1, …) at each snapshot",
        ),
        err,
        outs.len(),
    ));
    let (mean, err) = rows_mean_and_stderr(&gains.iter().map(Vec::as_slice).collect::<Vec<_>>());
    arrays.extend(with_stderr(
        array(
            "gain_spectrum",
            vec![snapshots, nm.len()],
            mean,
            "cm^-1",
            "net material gain of the platelets at the stripe centre at each snapshot",
        ),
        err,
        outs.len(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_names_are_what_a_point_lists() {
        let setup = crate::ase::setup::tiny_setup("duration_ps = 0.1\npackets_per_step = 2\n");
        let out = crate::ase::run(&setup, 0, &|_| {});
        let names: Vec<String> = replica_items(&setup, &setup.spectrum.centres_nm(), &out)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, RESULT_NAMES);
    }
}
