//! The slab mode solver against the worked waveguide case of PHYSICS.md (film n = 1.8
//! on fused silica 1.4635 under air, λ = 480 nm) and against closed forms.

mod common;
use asemc::modes::{Polarization, Slab};
use common::run_asemc;

fn slab(thickness_nm: f64) -> Slab {
    Slab::new(1.8, 1.4635, 1.0, thickness_nm, 480.0)
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
    for key in [
        "modal_gain_factor",
        "modal_gain_factor_in_plane",
        "group_index",
    ] {
        assert!(modes[0][key].is_number(), "{key}");
    }
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

/// n_eff of the TE_m or TM_m mode of a uniaxial film (in-plane index `n_par`, index
/// `n_perp` across it) between isotropic claddings, from its own dispersion relation:
/// TE sees n_par alone; for TM (H_y, E_x across, E_z along) κ = k₀(n_par/n_perp)
/// √(n_perp² − n_eff²), and the claddings' phases carry n_par²/n_j² (E_z ∝ H'/ε_z is
/// continuous).
fn uniaxial_n_eff(pol: Polarization, m: u32, n_par: f64, n_perp: f64, h: f64, lambda: f64) -> f64 {
    let (ns, nc) = (1.4635f64, 1.0f64);
    let k0 = 2.0 * std::f64::consts::PI / lambda;
    let f = |n: f64| {
        let (kappa, r) = match pol {
            Polarization::TE => (k0 * (n_par * n_par - n * n).sqrt(), [1.0, 1.0]),
            Polarization::TM => (
                k0 * n_par / n_perp * (n_perp * n_perp - n * n).sqrt(),
                [(n_par / ns).powi(2), (n_par / nc).powi(2)],
            ),
        };
        let phase = |r: f64, nj: f64| (r * k0 * (n * n - nj * nj).sqrt()).atan2(kappa);
        kappa * h - f64::from(m) * std::f64::consts::PI - phase(r[0], ns) - phase(r[1], nc)
    };
    common::bisect(f, ns, n_par.min(n_perp), 200)
}

/// Γ' is the derivative of n_eff with the film's index (the gain is its imaginary part,
/// and n_eff is analytic in it): for an isotropic film ∂n_eff/∂n_f, for dipoles in the
/// film plane ∂n_eff/∂n_par of a uniaxial film whose in-plane index alone changes, each
/// by a central difference of an independent bisection of the uniaxial dispersion
/// relation, within 1e-6 for every guided mode at 100, 150, 300 and 600 nm. The TE
/// modes' Γ'∥ equal their Γ', the TM modes' are below it, and Γ'∥ + Γ'⊥ = Γ'.
#[test]
fn modal_gain_factors_are_the_derivatives_of_n_eff() {
    let d = 1e-6;
    for h in [100.0, 150.0, 300.0, 600.0] {
        let s = slab(h);
        let modes = s.modes();
        assert!(!modes.is_empty());
        for m in modes {
            let n =
                |par: f64, perp: f64| uniaxial_n_eff(m.polarization, m.order, par, perp, h, 480.0);
            assert!((n(1.8, 1.8) - m.n_eff).abs() < 1e-12, "{h} nm {m:?}");
            let iso = (n(1.8 + d, 1.8 + d) - n(1.8 - d, 1.8 - d)) / (2.0 * d);
            let par = (n(1.8 + d, 1.8) - n(1.8 - d, 1.8)) / (2.0 * d);
            let perp = (n(1.8, 1.8 + d) - n(1.8, 1.8 - d)) / (2.0 * d);
            let what = format!("{h} nm {:?}{}", m.polarization, m.order);
            close(&format!("{what} Γ'"), m.modal_gain_factor, iso, 1e-6);
            close(
                &format!("{what} Γ'∥"),
                m.modal_gain_factor_in_plane,
                par,
                1e-6,
            );
            close(&format!("{what} Γ'∥ + Γ'⊥"), par + perp, iso, 1e-6);
            match m.polarization {
                Polarization::TE => close(
                    &what,
                    m.modal_gain_factor_in_plane,
                    m.modal_gain_factor,
                    1e-12,
                ),
                Polarization::TM => {
                    assert!(m.modal_gain_factor_in_plane < m.modal_gain_factor, "{what}")
                }
            }
        }
    }
}

/// The group index against the identity n_g·n_eff = Σ_layers n_j² Γ_j of a TE mode in
/// layers without dispersion (Γ_j: the layer's share of ∫|E|², here by Simpson's rule
/// over the field profile cos(κx − φ) in the film and its exponential tails), within
/// 1e-7; and for every mode n_g > n_eff (the mode slows as the wavelength shortens
/// toward the film's index).
#[test]
fn the_group_index_follows_the_field_energy_in_each_layer() {
    let (nf, ns, nc) = (1.8f64, 1.4635f64, 1.0f64);
    for h in [100.0, 150.0, 300.0, 600.0] {
        let s = slab(h);
        for m in s.modes() {
            assert!(m.group_index > m.n_eff, "{h} nm {m:?}");
            if m.polarization != Polarization::TE {
                continue;
            }
            let [sub, film, cov] = te_energy_in_layers(m.n_eff, (nf, ns, nc), h, 480.0);
            close(
                &format!("{h} nm TE{} n_g·n_eff", m.order),
                m.group_index * m.n_eff,
                ns * ns * sub + nf * nf * film + nc * nc * cov,
                1e-7,
            );
        }
    }
}

/// Each layer's share of ∫|E|² for the TE mode of effective index `n` (substrate,
/// film, cover): Simpson's rule over the field profile cos(κx − φ) in the film
/// (x = 0 at the substrate) and its exponential tails, 40 decay lengths deep.
fn te_energy_in_layers(n: f64, (nf, ns, nc): (f64, f64, f64), h: f64, lambda: f64) -> [f64; 3] {
    let k0 = 2.0 * std::f64::consts::PI / lambda;
    let kappa = k0 * (nf * nf - n * n).sqrt();
    let (gs, gc) = (k0 * (n * n - ns * ns).sqrt(), k0 * (n * n - nc * nc).sqrt());
    let phi = gs.atan2(kappa);
    let field = |x: f64| {
        if x < 0.0 {
            phi.cos() * (gs * x).exp()
        } else if x <= h {
            (kappa * x - phi).cos()
        } else {
            (kappa * h - phi).cos() * (-gc * (x - h)).exp()
        }
    };
    let e2 = |a: f64, b: f64| common::simpson(|x| field(x).powi(2), a, b, 20_000);
    let parts = [e2(-40.0 / gs, 0.0), e2(0.0, h), e2(h, h + 40.0 / gc)];
    let total: f64 = parts.iter().sum();
    parts.map(|p| p / total)
}

/// Malitson's fused silica (`fused_silica`) against the indices quoted from his
/// formula at the helium d line, the HeNe line and Nd:YAG's 1064 nm (1.4585, 1.4570,
/// 1.4496), and the seed substrate's 1.4635 at 480 nm (PHYSICS.md), within 1e-4; the
/// closed-form group index of a Sellmeier and a Cauchy formula against a central
/// difference of their indices over λ(1 ± 10⁻⁵) (its truncation and rounding errors
/// near 1e-11), within 1e-9.
#[test]
fn dispersion_formulas_give_the_published_indices_and_their_group_index() {
    use asemc::dispersion::{Dispersion, FUSED_SILICA};
    for (nm, n) in [
        (587.56, 1.4585),
        (632.8, 1.4570),
        (1064.0, 1.4496),
        (480.0, 1.4635),
    ] {
        close(
            &format!("fused silica at {nm} nm"),
            FUSED_SILICA.index(nm),
            n,
            1e-4,
        );
    }
    let cauchy: Dispersion = "cauchy:1.75,0.012,0.0004".parse().unwrap();
    for d in [FUSED_SILICA, cauchy, Dispersion::Constant(1.8)] {
        for nm in [400.0, 480.0, 700.0] {
            let h = 1e-5 * nm;
            let slope = (d.index(nm + h) - d.index(nm - h)) / (2.0 * h);
            close(
                &format!("{d:?} n_g at {nm} nm"),
                d.group_index(nm),
                d.index(nm) - nm * slope,
                1e-9,
            );
        }
    }
    assert!(FUSED_SILICA.group_index(480.0) > FUSED_SILICA.index(480.0) + 0.01);
    for bad in [
        "",
        "glass",
        "cauchy:1.7",
        "cauchy:1.7,x",
        "sellmeier:1,2,3",
        "fused_silica:1",
    ] {
        let e = bad.parse::<Dispersion>().unwrap_err();
        assert!(
            e.contains("fused_silica") && e.contains("cauchy:A,B[,C]"),
            "{bad}: {e}"
        );
    }
}

/// With dispersive layers the group index takes the materials' dispersion too:
/// n_g·n_eff = Σ_j Γ_j n_j n_g,j for a TE mode (n_g,j each layer's own group index),
/// within 1e-7, for a Cauchy film on fused silica at 100–600 nm.
#[test]
fn the_group_index_includes_the_layers_dispersion() {
    use asemc::dispersion::{Dispersion, FUSED_SILICA};
    let film: Dispersion = "cauchy:1.75,0.012,0.0004".parse().unwrap();
    let lambda = 480.0;
    let (nf, ns, nc) = (film.index(lambda), FUSED_SILICA.index(lambda), 1.0f64);
    let (gf, gs) = (film.group_index(lambda), FUSED_SILICA.group_index(lambda));
    for h in [100.0, 150.0, 300.0, 600.0] {
        let s = Slab {
            film,
            substrate: FUSED_SILICA,
            n_cover: 1.0,
            thickness_nm: h,
            wavelength_nm: lambda,
        };
        for m in s
            .modes()
            .into_iter()
            .filter(|m| m.polarization == Polarization::TE)
        {
            let [sub, core, cov] = te_energy_in_layers(m.n_eff, (nf, ns, nc), h, lambda);
            close(
                &format!("{h} nm TE{} n_g·n_eff", m.order),
                m.group_index * m.n_eff,
                ns * gs * sub + nf * gf * core + nc * nc * cov,
                1e-7,
            );
        }
    }
}

/// `asemc modes` takes a dispersion in place of an index: `--n-substrate fused_silica`
/// at 480 nm gives the substrate index 1.4635 and the TE0 of an n = 1.8 film within
/// 1e-4 of the constant-index slab's; a malformed dispersion exits 2 naming the option
/// and what it may be.
#[test]
fn modes_takes_a_dispersion_in_place_of_an_index() {
    let run = |substrate: &str| {
        let args = [
            "modes",
            "--n-film",
            "1.8",
            "--n-substrate",
            substrate,
            "--thickness-nm",
            "100",
            "--wavelength-nm",
            "480",
            "--json",
        ];
        run_asemc(&args, std::path::Path::new("."))
    };
    let out = run("fused_silica");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    close(
        "n_substrate",
        v["n_substrate"].as_f64().unwrap(),
        1.4635,
        1e-4,
    );
    close(
        "TE0 n_eff",
        v["modes"][0]["n_eff"].as_f64().unwrap(),
        1.51845,
        1e-4,
    );
    let out = run("glass");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--n-substrate") && err.contains("cauchy:A,B[,C]"),
        "{err}"
    );
}
