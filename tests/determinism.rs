//! Reproducibility: the same seed gives bit-identical datasets, and the result does
//! not depend on the number of threads.

mod common;
use asemc::transport::Channel;
use common::{config, run_config, scratch, transport};

const SCATTERING_FILM: &str = r#"
[film]
thickness_nm = 20_000.0
refractive_index = 1.6
absorption_per_cm = 30.0
scattering_per_cm = 400.0
anisotropy = 0.6
length_um = 300.0
width_um = 200.0
[source]
kind = "isotropic"
photons = 50_000
[run]
seed = 99
"#;

#[test]
fn one_thread_and_two_threads_give_identical_tallies() {
    let c = config(SCATTERING_FILM);
    let one = transport(&c, 1);
    let two = transport(&c, 2);
    assert_eq!(one, two);
    assert!(one.mean(Channel::EdgeXPlus) > 0.0);
}

#[test]
fn another_seed_gives_another_sample() {
    let mut c = config(SCATTERING_FILM);
    let a = transport(&c, 2);
    c.run.seed += 1;
    let b = transport(&c, 2);
    assert_ne!(a.sum, b.sum);
}

/// Every dataset of every point, by path, with its values.
fn datasets(path: &std::path::Path) -> Vec<(String, Vec<f64>)> {
    let file = asemc::output::h5file::open(path).unwrap();
    let points = file.group("points").unwrap();
    let mut out = Vec::new();
    let mut names = points.member_names().unwrap();
    names.sort();
    for p in names {
        let g = points.group(&p).unwrap();
        let mut ds = g.member_names().unwrap();
        ds.sort();
        for d in ds {
            let values = g.dataset(&d).unwrap().read_raw::<f64>().unwrap();
            out.push((format!("{p}/{d}"), values));
        }
    }
    out
}

#[test]
fn same_seed_gives_bit_identical_hdf5_datasets() {
    let dir = scratch("same-seed");
    for (out, threads) in [("a.h5", "1"), ("b.h5", "2")] {
        let r = run_config(
            "run",
            "quickstart.toml",
            &[
                "-o",
                out,
                "--set",
                "source.photons=20000",
                "--threads",
                threads,
                "--backend",
                "cpu",
            ],
            &dir,
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let (a, b) = (datasets(&dir.join("a.h5")), datasets(&dir.join("b.h5")));
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 10);
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(va), bits(vb), "dataset {na} differs");
    }
    std::fs::remove_dir_all(&dir).ok();
}
