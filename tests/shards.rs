//! Sharded runs: shards merged equal the unsharded run bit for bit, whatever the shard
//! count; merge refuses what does not belong together; and the Slurm scripts run on a
//! real Slurm (when one answers here, and always under CI).

mod common;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{SMALL_FILM, configs_dir, contents, run_asemc, scratch, set_args};

/// A five-point stripe-length sweep of the VSL example, made small: 5 points, so
/// neither 2 nor 3 shards divide it.
fn config_args() -> Vec<String> {
    let mut a = vec![
        configs_dir()
            .join("examples/vsl.toml")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    a.extend(set_args(SMALL_FILM.into_iter().chain([
        "pump.stripe_length_um=100",
        "platelets.samples_per_cell=100",
        "run.duration_ps=1",
        "run.packets_per_step=64",
        "sweep.axes=[{key=\"pump.stripe_length_um\", linspace=[20, 100, 5]}]",
    ])));
    a
}

/// `asemc COMMAND` on the sweep of `config_args`, then `extra`, in `dir`.
fn on_sweep(dir: &Path, command: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec![command.into()];
    args.extend(config_args());
    args.extend(extra.iter().map(|s| s.to_string()));
    run_asemc(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir)
}

/// `asemc run` of the sweep into `out`, quietly, with `extra` arguments.
fn run(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["-o", out, "-q"];
    args.extend_from_slice(extra);
    on_sweep(dir, "run", &args)
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn rejected(o: &std::process::Output, expected: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for e in expected {
        assert!(err.contains(e), "stderr lacks {e:?}: {err}");
    }
}

fn assert_same(a: &Path, b: &Path) {
    let (x, y) = (contents(a), contents(b));
    assert_eq!(x.len(), y.len(), "{} vs {}", a.display(), b.display());
    for (p, q) in x.iter().zip(&y) {
        assert_eq!(
            p,
            q,
            "{} differs between {} and {}",
            p.0,
            a.display(),
            b.display()
        );
    }
}

#[test]
fn merged_shards_equal_the_unsharded_run_bit_for_bit() {
    let dir = scratch("shards");
    ok(&run(&dir, "whole.h5", &[]));
    for n in 1..=3usize {
        let mut parts = Vec::new();
        for k in 0..n {
            let part = format!("part_{n}_{k}.h5");
            ok(&run(&dir, &part, &["--shard", &format!("{k}/{n}")]));
            parts.push(part);
        }
        // Shards in any order.
        parts.reverse();
        let merged = format!("merged_{n}.h5");
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        args.extend(["-o", &merged]);
        let o = run_asemc(&args, &dir);
        ok(&o);
        assert!(String::from_utf8_lossy(&o.stdout).contains("5 of 5 points"));
        assert_same(&dir.join("whole.h5"), &dir.join(&merged));
        // The merged file is a complete run file: summary and fit read it.
        ok(&run_asemc(&["fit", &merged], &dir));
    }
    // A shard holds its own points only: 1/3 of 5 points is points 1 and 4.
    let c = contents(&dir.join("part_3_1.h5"));
    let groups: std::collections::BTreeSet<&str> = c.iter().map(|(k, _)| &k[..4]).collect();
    assert_eq!(groups.into_iter().collect::<Vec<_>>(), ["0001", "0004"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_shards_and_merges_are_refused_with_the_file_named() {
    let dir = scratch("shard-errors");
    rejected(
        &run(&dir, "x.h5", &["--shard", "3/3"]),
        &[
            "--shard",
            "the shard index 3 must be below the shard count 3 (0…2)",
        ],
    );
    rejected(
        &run(&dir, "x.h5", &["--shard", "0/0"]),
        &["the shard count N must be at least 1"],
    );
    rejected(&run(&dir, "x.h5", &["--shard", "1"]), &["expected K/N"]);
    assert!(!dir.join("x.h5").exists() && !dir.join("x.h5.partial").exists());

    for k in 0..2 {
        ok(&run(
            &dir,
            &format!("p{k}.h5"),
            &["--shard", &format!("{k}/2")],
        ));
    }
    // Missing shard.
    rejected(
        &run_asemc(&["merge", "p0.h5", "-o", "m.h5"], &dir),
        &[
            "p0.h5",
            "hold 3 of the sweep's 5 points",
            "missing: points 1, 3 (shard 1/2)",
        ],
    );
    assert!(!dir.join("m.h5").exists());
    // --allow-partial writes what there is.
    let o = run_asemc(&["merge", "p0.h5", "-o", "m.h5", "--allow-partial"], &dir);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 of 5 points"));
    // Duplicate shard.
    std::fs::copy(dir.join("p1.h5"), dir.join("p1-copy.h5")).unwrap();
    rejected(
        &run_asemc(
            &["merge", "p0.h5", "p1.h5", "p1-copy.h5", "-o", "d.h5"],
            &dir,
        ),
        &[
            "p1-copy.h5",
            "holds point 1, which p1.h5 (shard 1/2) holds too",
        ],
    );
    // A shard of another config.
    ok(&run(&dir, "other.h5", &["--shard", "1/2", "--seed", "7"]));
    rejected(
        &run_asemc(&["merge", "p0.h5", "other.h5", "-o", "o.h5"], &dir),
        &[
            "other.h5",
            "was written by a different config",
            "than p0.h5",
        ],
    );
    // A shard written by another build of asemc: another commit, or the same commit
    // with other sources (the hash of the sources that built it).
    let plant = |name: &str, attr: &str, value: &str| {
        std::fs::copy(dir.join("p1.h5"), dir.join(name)).unwrap();
        let f = asemc::output::h5file::open_rw(&dir.join(name)).unwrap();
        f.delete_attr(attr).unwrap();
        let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>()
            .shape(())
            .create(attr)
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    };
    plant("p1-other-build.h5", "git_commit", "0123abc");
    rejected(
        &run_asemc(&["merge", "p0.h5", "p1-other-build.h5", "-o", "b.h5"], &dir),
        &[
            "p1-other-build.h5",
            "another build of asemc (git_commit 0123abc here",
        ],
    );
    plant("p1-other-sources.h5", "source_hash", "00000000deadbeef");
    rejected(
        &run_asemc(
            &["merge", "p0.h5", "p1-other-sources.h5", "-o", "s.h5"],
            &dir,
        ),
        &[
            "p1-other-sources.h5",
            "another build of asemc (source_hash 00000000deadbeef here",
            "--allow-build-mismatch",
        ],
    );
    // Allowed, the merged file says so and names each shard's build.
    ok(&run_asemc(
        &[
            "merge",
            "p0.h5",
            "p1-other-sources.h5",
            "-o",
            "s.h5",
            "--allow-build-mismatch",
        ],
        &dir,
    ));
    let merged = asemc::output::OutputReader::open(&dir.join("s.h5")).unwrap();
    assert_eq!(merged.root_u64("build_mismatch_allowed").unwrap(), 1);
    let builds = merged.root_str("merged_builds").unwrap();
    assert!(
        builds.contains("p1-other-sources.h5") && builds.contains("source_hash 00000000deadbeef"),
        "{builds}"
    );
    let own = asemc::output::OutputReader::open(&dir.join("p0.h5"))
        .unwrap()
        .root_str("source_hash")
        .unwrap();
    // The hash the binary recorded is that of the sources it was built from.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = asemc::build_hash::source_hash(root, &asemc::build_hash::SOURCES).unwrap();
    assert_eq!(own, sources);
    // Not an output file at all.
    std::fs::write(dir.join("junk.h5"), b"junk").unwrap();
    rejected(
        &run_asemc(&["merge", "p0.h5", "junk.h5", "-o", "j.h5"], &dir),
        &["junk.h5", "not a readable HDF5 file"],
    );
    // A finished shard resumed as itself has nothing left to do (a re-run array task).
    let modified = || {
        std::fs::metadata(dir.join("p0.h5"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = modified();
    ok(&run(&dir, "p0.h5", &["--shard", "0/2", "--resume"]));
    assert_eq!(modified(), before, "resuming a finished shard rewrote it");
    // Resuming a shard file as another shard is refused.
    rejected(
        &run(&dir, "p0.h5", &["--shard", "1/2", "--resume"]),
        &["p0.h5", "holds shard 0/2, not shard 1/2"],
    );
    // More array tasks than points.
    rejected(
        &on_sweep(&dir, "slurm", &["--tasks", "6", "-o", "s.h5"]),
        &["--tasks 6", "has 5 sweep point(s); use 1 to 5 tasks"],
    );
    rejected(
        &on_sweep(&dir, "slurm", &["--tasks", "0", "-o", "s.h5"]),
        &["--tasks 0", "use 1 to 5 tasks"],
    );
    assert!(!dir.join("s_slurm").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Whether a Slurm controller answers here.
fn slurm_answers() -> bool {
    std::process::Command::new("sinfo")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_slurm_array_and_its_merge_job_reproduce_the_unsharded_run() {
    if !slurm_answers() {
        assert!(
            std::env::var_os("ASEMC_REQUIRE_SLURM").is_none(),
            "ASEMC_REQUIRE_SLURM is set but no Slurm controller answers (sinfo failed)"
        );
        println!("skipped: no Slurm controller answers here (sinfo); .ci/slurm-up starts one");
        return;
    }
    let dir = scratch("slurm");
    ok(&run(&dir, "whole.h5", &[]));
    let o = on_sweep(
        &dir,
        "slurm",
        &[
            "--tasks", "3", "-o", "all.h5", "--time", "0:10:00", "--submit",
        ],
    );
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    println!("{text}");
    assert!(text.contains("submitted array job") && text.contains("submitted merge job"));
    let script = std::fs::read_to_string(dir.join("all_slurm/array.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2") && script.contains("--shard \"$K/3\""));

    let start = Instant::now();
    while !dir.join("all.h5").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the merged file did not appear within 5 minutes; logs in {}",
            dir.join("all_slurm/logs").display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_same(&dir.join("whole.h5"), &dir.join("all.h5"));
    std::fs::remove_dir_all(&dir).ok();
}
