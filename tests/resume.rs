//! Interrupted runs: a run killed with SIGKILL leaves only its partial run, and
//! `--resume` completes it to the same datasets as an uninterrupted run.

mod common;
use std::process::Stdio;

use common::{
    SMALL_FILM, asemc, configs_dir, contents, kill_after_line, run_asemc, scratch, set_args,
};

/// A six-point fluence sweep on a small piece of the medium-crown film.
fn args(out: &str) -> Vec<String> {
    let cfg = configs_dir().join("examples/medium_crown.toml");
    let mut a: Vec<String> = vec![
        "run".into(),
        cfg.to_str().unwrap().into(),
        "-o".into(),
        out.into(),
    ];
    a.extend(set_args(SMALL_FILM.into_iter().chain([
        "pump.stripe_length_um=100",
        "pump.stripe_width_um=20",
        "platelets.samples_per_cell=200",
        "run.duration_ps=2",
        "run.packets_per_step=256",
        "sweep.axes=[{key=\"pump.fluence_uj_cm2\", logspace=[0.5, 8, 6]}]",
    ])));
    a
}

#[test]
fn a_killed_run_resumes_to_the_same_datasets() {
    let dir = scratch("resume");
    let whole = run_asemc(
        &args("whole.h5")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &dir,
    );
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );

    // Kill the run with SIGKILL once two points are done.
    kill_after_line(
        asemc().args(args("cut.h5")).stdout(Stdio::null()),
        &dir,
        "point 2/6 done",
    );
    assert!(
        !dir.join("cut.h5").exists(),
        "a killed run left a file under the requested name"
    );
    assert!(dir.join("cut.h5.partial").exists());

    let mut resume_args = args("cut.h5");
    resume_args.push("--resume".into());
    let resumed = run_asemc(
        &resume_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &dir,
    );
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{log}");
    assert!(log.contains("points already done"), "{log}");
    assert!(!dir.join("cut.h5.partial").exists());
    let (a, b) = (
        contents(&dir.join("whole.h5")),
        contents(&dir.join("cut.h5")),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{} differs after resuming", x.0);
    }

    // Resuming a finished run does nothing; resuming with another config is refused.
    let again = run_asemc(
        &resume_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &dir,
    );
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
    resume_args.push("--seed".into());
    resume_args.push("5".into());
    let other = run_asemc(
        &resume_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &dir,
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("different config"));
    std::fs::remove_dir_all(&dir).ok();
}
