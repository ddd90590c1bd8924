//! The slab mode solver against the worked waveguide case of PHYSICS.md (film n = 1.8
//! on fused silica 1.4635 under air, λ = 480 nm) and against closed forms.

mod common;
use asemc::modes::{Polarization, Slab};
use common::run_asemc;

fn slab(thickness_nm: f64) -> Slab {
    Slab {
        n_film: 1.8,
        n_substrate: 1.4635,
        n_cover: 1.0,
        thickness_nm,
        wavelength_nm: 480.0,
    }
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} vs {want} (tolerance {tol})"
    );
}

#[test]
fn worked_case_at_100_nm() {
    let s = slab(100.0);
    let te0 = s
        .mode(Polarization::TE, 0)
        .expect("TE0 is guided at 100 nm");
    close("TE0 n_eff", te0.n_eff, 1.51845, 1e-5);
    close("TE0 Γ_E", te0.confinement_factor, 0.470, 1e-3);
    close("TE0 Γ'", te0.modal_gain_factor, 0.557, 1e-3);
    let tm0 = s
        .mode(Polarization::TM, 0)
        .expect("TM0 is guided at 100 nm");
    close("TM0 Γ'", tm0.modal_gain_factor, 0.068, 1e-3);
    assert!(s.mode(Polarization::TE, 1).is_none());
}

#[test]
fn worked_case_at_300_nm() {
    let te0 = slab(300.0).mode(Polarization::TE, 0).unwrap();
    close("TE0 n_eff", te0.n_eff, 1.71094, 1e-5);
    close("TE0 Γ_E", te0.confinement_factor, 0.927, 1e-3);
    close("TE0 Γ'", te0.modal_gain_factor, 0.975, 1e-3);
}

#[test]
fn cutoff_thicknesses() {
    let s = slab(100.0);
    // PHYSICS.md quotes TE0 58.0, TM0 93.1 nm (to 0.1 nm) and TE1 287 nm (to 1 nm).
    close(
        "TE0 cut-off",
        s.cutoff_thickness_nm(Polarization::TE, 0).unwrap(),
        58.0,
        0.05,
    );
    close(
        "TM0 cut-off",
        s.cutoff_thickness_nm(Polarization::TM, 0).unwrap(),
        93.1,
        0.05,
    );
    close(
        "TE1 cut-off",
        s.cutoff_thickness_nm(Polarization::TE, 1).unwrap(),
        287.0,
        0.5,
    );
    // Each mode appears exactly at its cut-off.
    for (p, m) in [
        (Polarization::TE, 0),
        (Polarization::TM, 0),
        (Polarization::TE, 1),
        (Polarization::TM, 1),
    ] {
        let hc = s.cutoff_thickness_nm(p, m).unwrap();
        assert!(
            slab(hc * 0.999).mode(p, m).is_none(),
            "{p:?}{m} below cut-off"
        );
        assert!(
            slab(hc * 1.001).mode(p, m).is_some(),
            "{p:?}{m} above cut-off"
        );
    }
}

#[test]
fn te_confinement_matches_the_closed_form() {
    // Γ_E = [h + γs/(κ²+γs²) + γc/(κ²+γc²)] / [h + 1/γs + 1/γc] (PHYSICS.md formula 4).
    for h in [70.0, 100.0, 150.0, 300.0, 600.0] {
        let s = slab(h);
        let m = s.mode(Polarization::TE, 0).unwrap();
        let k0 = 2.0 * std::f64::consts::PI / 480.0;
        let kappa = k0 * (1.8f64.powi(2) - m.n_eff.powi(2)).sqrt();
        let gs = k0 * (m.n_eff.powi(2) - 1.4635f64.powi(2)).sqrt();
        let gc = k0 * (m.n_eff.powi(2) - 1.0).sqrt();
        let closed = (h + gs / (kappa * kappa + gs * gs) + gc / (kappa * kappa + gc * gc))
            / (h + 1.0 / gs + 1.0 / gc);
        close(
            &format!("Γ_E at {h} nm"),
            m.confinement_factor,
            closed,
            1e-12,
        );
        close(
            "Γ' = (n_f/n_eff) Γ_E",
            m.modal_gain_factor,
            1.8 / m.n_eff * closed,
            1e-12,
        );
    }
}

#[test]
fn modes_json_has_the_documented_shape() {
    let out = run_asemc(
        &[
            "modes",
            "--n-film",
            "1.8",
            "--n-substrate",
            "1.4635",
            "--n-cover",
            "1",
            "--thickness-nm",
            "100",
            "--wavelength-nm",
            "480",
            "--json",
        ],
        std::path::Path::new("."),
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let modes = v["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 2);
    assert_eq!(modes[0]["polarization"], "TE");
    assert_eq!(modes[0]["order"], 0);
    assert!((modes[0]["n_eff"].as_f64().unwrap() - 1.51845).abs() < 1e-5);
    assert!(modes[0]["confinement_factor"].is_number());
    assert!(modes[0]["modal_gain_factor"].is_number());
    for k in ["TE0", "TM0", "TE1", "TM1"] {
        assert!(v["cutoff_thickness_nm"][k].is_number(), "{k}");
    }
}

#[test]
fn modes_rejects_an_index_below_one() {
    let out = run_asemc(
        &[
            "modes",
            "--n-film",
            "0.5",
            "--n-substrate",
            "1.4635",
            "--thickness-nm",
            "100",
            "--wavelength-nm",
            "480",
        ],
        std::path::Path::new("."),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--n-film 0.5: a refractive index must be ≥ 1")
    );
}
