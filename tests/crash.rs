//! Runs that die: a run killed or interrupted anywhere inside a write never leaves a
//! file under the requested name, keeps every point it finished, and `--resume`
//! completes it to the datasets of the uninterrupted run; a write that fails (a full
//! disk) says how to resume.

mod common;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Output;

use asemc::output::OutputReader;
use common::{asemc, configs_dir, contents, kill_after_line, scratch};

#[test]
fn sigkill_leaves_no_truncated_file_and_keeps_finished_points() {
    let dir = scratch("sigkill");
    let cfg = configs_dir().join("quickstart.toml");
    // Point 0 is small; point 1 takes long enough to be killed in.
    kill_after_line(
        asemc().args([
            "run",
            cfg.to_str().unwrap(),
            "-o",
            "k.h5",
            "--set",
            "source.photons=4000000000",
            "--set",
            "sweep.axes=[{key = \"source.photons\", values = [2000, 4000000000]}]",
        ]),
        &dir,
        "point 1/2 done",
    );
    assert!(
        !dir.join("k.h5").exists(),
        "no file under the requested name"
    );
    let partial = dir.join("k.h5.partial");
    assert!(partial.exists());
    let reader = OutputReader::open(&partial).unwrap();
    let points = reader.points().unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].photons, 2000);
    std::fs::remove_dir_all(&dir).ok();
}

/// The quick start's three points at 20 000 packets each, written to `out` in `dir`,
/// with the test hook stopping the write at `fault` (`PLACE@WHAT:SIGNAL`) if given.
fn quick_run(dir: &Path, out: &str, fault: Option<&str>, resume: bool) -> Output {
    let cfg = configs_dir().join("quickstart.toml");
    let mut cmd = asemc();
    cmd.current_dir(dir).args([
        "run",
        cfg.to_str().unwrap(),
        "-o",
        out,
        "--backend",
        "cpu",
        "--set",
        "source.photons=20000",
    ]);
    if resume {
        cmd.arg("--resume");
    }
    if let Some(f) = fault {
        cmd.env("ASEMC_FAULT_IN_WRITE", f);
    }
    cmd.output().unwrap()
}

#[test]
fn a_kill_or_interrupt_anywhere_in_a_write_resumes_to_the_uninterrupted_run() {
    let dir = scratch("fault-in-write");
    let whole = quick_run(&dir, "whole.h5", None, false);
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let reference = contents(&dir.join("whole.h5"));
    let places = [
        "created@run",
        "written@run",
        "committed@run",
        "created@1",
        "half@1",
        "written@1",
        "committed@1",
        "created@assembled",
        "half@assembled",
        "written@assembled",
        "committed@assembled",
        "renamed@assembled",
    ];
    for place in places {
        for signal in ["kill", "int"] {
            let fault = format!("{place}:{signal}");
            let out = format!("{}-{signal}.h5", place.replace('@', "-"));
            let (dest, partial) = (dir.join(&out), dir.join(format!("{out}.partial")));
            let cut = quick_run(&dir, &out, Some(&fault), false);
            let log = String::from_utf8_lossy(&cut.stderr);
            let assembled = place.ends_with("@assembled");
            if signal == "kill" {
                assert_eq!(cut.status.code(), None, "{fault}: killed\n{log}");
                // Only the rename of the assembled file puts one under the requested name.
                assert_eq!(dest.exists(), place == "renamed@assembled", "{fault}");
            } else {
                // Ctrl-C waits for the write it came in; after the assembly the run is done.
                assert_eq!(cut.status.code(), Some(130), "{fault}\n{log}");
                assert!(log.contains("interrupted"), "{fault}\n{log}");
                assert_eq!(dest.exists(), assembled, "{fault}");
                if !assembled {
                    assert!(log.contains("--resume"), "{fault}\n{log}");
                }
            }
            // What the partial run holds is readable, and every point in it is finished.
            if partial.join("run.h5").exists() {
                let held = OutputReader::open(&partial)
                    .unwrap_or_else(|e| panic!("{fault}: {e}"))
                    .points()
                    .unwrap();
                let expected = match (place, signal) {
                    ("half@1" | "created@1" | "written@1", "kill") => 1,
                    (p, _) if p.ends_with("@run") => 0,
                    (p, _) if p.ends_with("@1") => 2,
                    _ => 3,
                };
                assert_eq!(held.len(), expected, "{fault}");
            }
            let resumed = quick_run(&dir, &out, None, true);
            let log = String::from_utf8_lossy(&resumed.stderr);
            assert!(resumed.status.success(), "{fault}: resume\n{log}");
            assert!(!partial.exists(), "{fault}: the partial run is gone");
            assert_eq!(
                contents(&dest),
                reference,
                "{fault}: resumed ≠ uninterrupted"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_write_that_fails_keeps_the_finished_points_and_says_how_to_resume() {
    // A file-size limit makes the kernel refuse the write of a file past it (EFBIG,
    // as a full disk refuses with ENOSPC): point 1's time bins make its file larger
    // than the limit, point 0's not.
    let dir = scratch("write-fails");
    let cfg = configs_dir().join("quickstart.toml");
    let args = |out: &str| {
        vec![
            "run".to_string(),
            cfg.to_str().unwrap().to_string(),
            "-o".into(),
            out.into(),
            "--backend".into(),
            "cpu".into(),
            "--set".into(),
            "source.photons=20000".into(),
            "--set".into(),
            "sweep.axes=[{key = \"tally.time_bins\", values = [10, 20000]}]".into(),
        ]
    };
    let whole = asemc()
        .current_dir(&dir)
        .args(args("whole.h5"))
        .output()
        .unwrap();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let limited = unsafe {
        asemc()
            .current_dir(&dir)
            .args(args("full.h5"))
            .pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 400_000,
                    rlim_max: 400_000,
                };
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
            .output()
            .unwrap()
    };
    let log = String::from_utf8_lossy(&limited.stderr);
    assert_eq!(limited.status.code(), Some(1), "{log}");
    assert!(
        log.contains("writing sweep point 1")
            && log.contains("full.h5.partial")
            && log.contains("--resume"),
        "{log}"
    );
    assert!(!dir.join("full.h5").exists());
    let held = OutputReader::open(&dir.join("full.h5.partial"))
        .unwrap()
        .points()
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].index, 0);
    let mut resume = args("full.h5");
    resume.push("--resume".into());
    let resumed = asemc().current_dir(&dir).args(resume).output().unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(
        contents(&dir.join("full.h5")),
        contents(&dir.join("whole.h5"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_partial_run_is_written_by_one_process_and_a_foreign_directory_is_kept() {
    use std::io::{BufRead, BufReader};
    let dir = scratch("partial-lock");
    let cfg = configs_dir().join("quickstart.toml");
    let args = [
        "run",
        cfg.to_str().unwrap(),
        "-o",
        "l.h5",
        "--backend",
        "cpu",
        "--set",
        "source.photons=4000000000",
        "--set",
        "sweep.axes=[{key = \"source.photons\", values = [2000, 4000000000]}]",
    ];
    // The first run holds its partial run while it works on point 1.
    let mut first = asemc()
        .current_dir(&dir)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = first.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains("point 1/2 done") {
            break;
        }
    }
    for extra in [&["--resume"][..], &[]] {
        let second = asemc()
            .current_dir(&dir)
            .args(args)
            .args(extra)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{extra:?}: {log}");
        assert!(
            log.contains("being written by another asemc process"),
            "{log}"
        );
    }
    first.kill().unwrap();
    first.wait().unwrap();
    // The first run's finished point survived the second's attempts.
    let held = OutputReader::open(&dir.join("l.h5.partial"))
        .unwrap()
        .points()
        .unwrap();
    assert_eq!(held.len(), 1);

    // A directory of the user's own where a partial run would go is not deleted.
    std::fs::create_dir(dir.join("mine.h5.partial")).unwrap();
    std::fs::write(dir.join("mine.h5.partial/notes.txt"), "mine").unwrap();
    let refused = asemc()
        .current_dir(&dir)
        .args([
            "run",
            cfg.to_str().unwrap(),
            "-o",
            "mine.h5",
            "--set",
            "source.photons=1000",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{log}");
    assert!(log.contains("not a partial asemc run"), "{log}");
    assert!(dir.join("mine.h5.partial/notes.txt").exists());
    std::fs::remove_dir_all(&dir).ok();
}
