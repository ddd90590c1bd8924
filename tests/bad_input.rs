//! Bad input: each case exits with status 2 and one message that names the file, the
//! key (with line:column where the file has it) and what would be valid; no output file
//! appears, and an existing file of the requested name is left untouched.

mod common;
use common::{run_asemc, scratch};
use std::path::Path;

const GOOD: &str = "[film]\nthickness_nm = 150.0\nrefractive_index = 1.75\n";

/// Run `asemc run bad.toml -o out.h5 EXTRA` where out.h5 already holds other data.
fn reject(name: &str, config: Option<&str>, extra: &[&str], expected: &[&str]) {
    let dir = scratch(name);
    if let Some(text) = config {
        std::fs::write(dir.join("bad.toml"), text).unwrap();
    }
    let existing = b"an earlier result that must survive";
    std::fs::write(dir.join("out.h5"), existing).unwrap();
    let mut args = vec!["run", "bad.toml", "-o", "out.h5"];
    args.extend_from_slice(extra);
    let out = run_asemc(&args, &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit status; stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    for fragment in expected {
        assert!(
            stderr.contains(fragment),
            "message lacks {fragment:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), existing);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter().all(|f| f == "bad.toml" || f == "out.h5"),
        "stray files: {left:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_key() {
    reject(
        "unknown-key",
        Some(&format!("{GOOD}absorbtion_per_cm = 3.0\n")),
        &[],
        &[
            "bad.toml:4:1: film.absorbtion_per_cm: unknown key",
            "`absorption_per_cm`",
        ],
    );
}

#[test]
fn wrong_type() {
    reject(
        "wrong-type",
        Some("[film]\nthickness_nm = \"thin\"\nrefractive_index = 1.75\n"),
        &[],
        &["bad.toml:2:1: film.thickness_nm: invalid type: string \"thin\", expected a number"],
    );
}

#[test]
fn negative_thickness() {
    reject(
        "negative-thickness",
        Some("[film]\nthickness_nm = -150.0\nrefractive_index = 1.75\n"),
        &[],
        &["bad.toml:2:1: film.thickness_nm: -150 is not valid: the film thickness must be > 0"],
    );
}

#[test]
fn zero_thickness() {
    reject(
        "zero-thickness",
        Some("[film]\nrefractive_index = 1.75\nthickness_nm = 0\n"),
        &[],
        &["bad.toml:3:1: film.thickness_nm: 0 is not valid: the film thickness must be > 0"],
    );
}

#[test]
fn negative_substrate_thickness() {
    reject(
        "negative-substrate",
        Some(&format!("{GOOD}[substrate]\nthickness_um = -1\n")),
        &[],
        &[
            "bad.toml:5:1: substrate.thickness_um: -1 is not valid",
            "must be ≥ 0",
        ],
    );
}

#[test]
fn index_below_one() {
    reject(
        "index-below-one",
        Some(&format!("{GOOD}[cover]\nrefractive_index = 0.9\n")),
        &[],
        &["bad.toml:5:1: cover.refractive_index: 0.9 is not valid: a refractive index must be ≥ 1"],
    );
}

#[test]
fn index_below_one_from_the_command_line() {
    reject(
        "index-below-one-set",
        Some(GOOD),
        &["--set", "film.refractive_index=0.5"],
        &[
            "bad.toml: film.refractive_index (set with --set): 0.5 is not valid: a refractive index must be ≥ 1",
        ],
    );
}

#[test]
fn anisotropy_outside_open_interval() {
    reject(
        "anisotropy",
        Some(&format!("{GOOD}anisotropy = 1.0\n")),
        &[],
        &[
            "bad.toml:4:1: film.anisotropy: 1 is not valid: the Henyey–Greenstein anisotropy must lie in (−1, 1)",
        ],
    );
}

#[test]
fn empty_sweep() {
    reject(
        "empty-sweep",
        Some(&format!(
            "{GOOD}[sweep]\n[[sweep.axes]]\nkey = \"film.thickness_nm\"\nvalues = []\n"
        )),
        &[],
        &[
            "bad.toml:5:1: sweep.axes[0]: the sweep over `film.thickness_nm` is empty: give at least one value",
        ],
    );
}

#[test]
fn sweep_without_axes() {
    reject(
        "sweep-no-axes",
        Some(&format!("{GOOD}[sweep]\ncombine = \"zip\"\n")),
        &[],
        &["bad.toml:4:2: sweep.axes: the sweep is empty: add at least one [[sweep.axes]]"],
    );
}

#[test]
fn sweep_over_a_key_that_does_not_exist() {
    reject(
        "sweep-unknown-key",
        Some(&format!(
            "{GOOD}[sweep]\n[[sweep.axes]]\nkey = \"film.thicknes_nm\"\nvalues = [100, 200]\n"
        )),
        &[],
        &[
            "bad.toml:5:1: sweep.axes[0]: `film.thicknes_nm` is not a key of the config; numeric keys are:",
            "film.thickness_nm",
        ],
    );
}

#[test]
fn sweep_to_an_invalid_value() {
    reject(
        "sweep-invalid-value",
        Some(&format!(
            "{GOOD}[sweep]\n[[sweep.axes]]\nkey = \"film.anisotropy\"\nlinspace = [0.0, 1.0, 3]\n"
        )),
        &[],
        &[
            "bad.toml:5:1: sweep.axes[0]: at sweep point 2 (film.anisotropy = 1): film.anisotropy: 1 is not valid",
        ],
    );
}

#[test]
fn missing_config_file() {
    reject(
        "missing-config",
        None,
        &[],
        &["bad.toml: config file not found; give the path of a TOML config"],
    );
}

#[test]
fn output_directory_that_does_not_exist() {
    let dir = scratch("missing-output-dir");
    std::fs::write(dir.join("good.toml"), GOOD).unwrap();
    let out = run_asemc(&["run", "good.toml", "-o", "no/such/dir/out.h5"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no/such/dir/out.h5: the output directory no/such/dir does not exist"),
        "{stderr}"
    );
    assert!(!Path::new(&dir.join("no")).exists());
}

#[test]
fn malformed_toml() {
    reject(
        "malformed",
        Some("[film\nthickness_nm = 1\n"),
        &[],
        &["bad.toml:1:", "not valid TOML"],
    );
}

#[test]
fn malformed_override() {
    reject(
        "malformed-override",
        Some(GOOD),
        &["--set", "film.thickness_nm"],
        &["--set film.thickness_nm: expected key.path=value"],
    );
}

/// A small pump config; each case below adds or changes one key.
const PUMP: &str = "[film]\nthickness_nm = 150.0\nrefractive_index = 1.75\nlength_um = 100.0\nwidth_um = 20.0\n\
[source]\nkind = \"pump\"\n[platelets]\ndensity_per_cm3 = 3e17\n[pump]\nfluence_uj_cm2 = 2.7\n\
stripe_length_um = 80.0\nstripe_width_um = 20.0\n";

#[test]
fn negative_lifetime() {
    reject(
        "negative-lifetime",
        Some(&PUMP.replace(
            "[platelets]\n",
            "[platelets]\nbiexciton_lifetime_ps = -50.0\n",
        )),
        &[],
        &[
            "bad.toml:9:1: platelets.biexciton_lifetime_ps: -50 is not valid: a lifetime must be > 0",
        ],
    );
}

#[test]
fn degeneracy_below_one() {
    reject(
        "degeneracy",
        Some(&PUMP.replace("[platelets]\n", "[platelets]\ndegeneracy = 0\n")),
        &[],
        &[
            "bad.toml:9:1: platelets.degeneracy: 0 is not valid: the band-edge degeneracy must be ≥ 1",
        ],
    );
}

#[test]
fn zero_spectral_bins() {
    reject(
        "zero-bins",
        Some(&format!("{PUMP}[spectrum]\nbins = 0\n")),
        &[],
        &["bad.toml:15:1: spectrum.bins: 0 is not valid: must be between 1 and 100000"],
    );
}

#[test]
fn spectral_window_without_the_emission_line() {
    reject(
        "window",
        Some(&format!(
            "{PUMP}[spectrum]\nmin_nm = 490.0\nmax_nm = 520.0\n"
        )),
        &[],
        &[
            "bad.toml:15:1: spectrum.min_nm: the window 490 … 520 nm does not contain the exciton emission line at 480.0 nm",
        ],
    );
}

#[test]
fn time_step_longer_than_the_shortest_lifetime() {
    reject(
        "long-step",
        Some(&format!("{PUMP}[run]\ntime_step_fs = 60000.0\n")),
        &[],
        &[
            "bad.toml:15:1: run.time_step_fs: 60000 fs is not valid: the time step must not exceed the shortest lifetime (platelets.biexciton_lifetime_ps = 50 ps)",
        ],
    );
}

#[test]
fn stripe_longer_than_the_film() {
    reject(
        "long-stripe",
        Some(&PUMP.replace("stripe_length_um = 80.0", "stripe_length_um = 150.0")),
        &[],
        &[
            "bad.toml:12:1: pump.stripe_length_um: 150 is not valid: the stripe cannot be longer than the film (film.length_um = 100)",
        ],
    );
}

#[test]
fn pump_without_density() {
    reject(
        "no-density",
        Some(&PUMP.replace("density_per_cm3 = 3e17\n", "")),
        &[],
        &[
            "bad.toml:8:2: platelets: give either platelets.density_per_cm3, or platelets.volume_fraction with platelets.volume_nm3",
        ],
    );
}

#[test]
fn pump_with_both_fluence_and_mean_excitons() {
    reject(
        "fluence-and-mean",
        Some(&PUMP.replace(
            "fluence_uj_cm2 = 2.7\n",
            "fluence_uj_cm2 = 2.7\nmean_excitons = 1.5\n",
        )),
        &[],
        &["bad.toml:10:2: pump: give exactly one of pump.fluence_uj_cm2 and pump.mean_excitons"],
    );
}

#[test]
fn no_spontaneous_packets_per_step() {
    reject(
        "no-packets",
        Some(&format!("{PUMP}[run]\npackets_per_step = 0\n")),
        &[],
        &[
            "bad.toml:15:1: run.packets_per_step: 0 is not valid: the packets per time step must be ≥ 1",
        ],
    );
}

/// `run.KEY = VALUE` (after the pump config) rejected for each of `values`, with the
/// message `message` makes of the value as the message writes it (no trailing `.0`).
fn reject_run_values(name: &str, key: &str, values: &[&str], message: impl Fn(&str) -> String) {
    for bad in values {
        reject(
            name,
            Some(&format!("{PUMP}[run]\n{key} = {bad}\n")),
            &[],
            &[&message(bad.trim_end_matches(".0"))],
        );
    }
}

#[test]
fn exchange_limit_outside_zero_to_one() {
    reject_run_values(
        "exchange-limit",
        "max_exchange_fraction",
        &["0.0", "1.5"],
        |bad| {
            format!(
                "bad.toml:15:1: run.max_exchange_fraction: {bad} is not valid: the share of a cell's excitons one step may exchange must lie in (0, 1]"
            )
        },
    );
}

#[test]
fn axial_sampling_cone_outside_zero_to_ninety() {
    reject_run_values("axial-cone", "axial_cone_deg", &["-1.0", "90.0"], |bad| {
        format!(
            "bad.toml:15:1: run.axial_cone_deg: {bad} is not valid: the half-angle of the sampling cones around ±x must lie in [0, 90) degrees (0 turns it off)"
        )
    });
}

#[test]
fn no_replicas() {
    reject_run_values("no-replicas", "replicas", &["0"], |bad| {
        format!("bad.toml:15:1: run.replicas: {bad} is not valid: must be between 1 and 4096")
    });
}

#[test]
fn target_relative_error_outside_zero_to_one() {
    reject_run_values(
        "target-error",
        "target_relative_error",
        &["0.0", "-0.1", "1.0"],
        |bad| {
            format!(
                "bad.toml:15:1: run.target_relative_error: {bad} is not valid: a relative standard error must lie in (0, 1)"
            )
        },
    );
}

#[test]
fn fewer_most_replicas_than_replicas() {
    reject(
        "max-replicas",
        Some(&format!(
            "{PUMP}[run]\nreplicas = 16\nmax_replicas = 8\ntarget_relative_error = 0.05\n"
        )),
        &[],
        &["bad.toml:16:1: run.max_replicas: 8 is less than run.replicas = 16"],
    );
}

#[test]
fn unknown_target_quantity() {
    reject(
        "target-quantity",
        Some(&format!(
            "{PUMP}[run]\ntarget_relative_error = 0.05\ntarget_quantity = \"edge_fotons\"\n"
        )),
        &[],
        &[
            "bad.toml:16:1: run.target_quantity: \"edge_fotons\" is not a scalar result of the ASE engine with a standard error",
            "edge_photons",
        ],
    );
}

/// A sweep axis of billions of values is refused before anything is allocated for it
/// (a linspace or logspace of 4·10⁹ would need 32 GB).
#[test]
fn sweep_too_large_for_memory() {
    for form in [
        "linspace = [1.5, 1.9, 4000000000]",
        "logspace = [1.5, 1.9, 4000000000]",
    ] {
        reject(
            "sweep-too-large",
            Some(&format!(
                "{GOOD}[sweep]\n[[sweep.axes]]\nkey = \"film.refractive_index\"\n{form}\n"
            )),
            &[],
            &[
                "bad.toml:5:1: sweep.axes[0]: the axis over `film.refractive_index` asks for 4000000000 values, more than a sweep's 1000000 points",
            ],
        );
    }
}

#[test]
fn output_directory_that_cannot_be_written() {
    let dir = scratch("unwritable-output-dir");
    std::fs::write(dir.join("good.toml"), GOOD).unwrap();
    let out = run_asemc(&["run", "good.toml", "-o", "/proc/out.h5"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    assert!(
        stderr.contains("/proc/out.h5: cannot write in the output directory /proc"),
        "{stderr}"
    );
}
