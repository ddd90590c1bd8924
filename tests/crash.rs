//! A run killed mid-way never leaves a file under the requested name, and the points it
//! finished before dying are already on disk in the partial file.

mod common;
use asemc::output::OutputReader;
use common::{asemc, configs_dir, kill_after_line, scratch};

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
