//! Transport checks against closed-form results: Fresnel reflectance, unscattered
//! transmission, multiple reflection in a slab, total internal reflection trapping,
//! edge geometry, the emitter's position, Henyey–Greenstein sampling and time of flight.

mod common;
use asemc::rng::{Purpose, Stream};
use asemc::transport::Channel;
use asemc::transport::fresnel::{interface, normal_reflectance};
use asemc::transport::scatter::hg_cos_theta;
use asemc::units::SPEED_OF_LIGHT_CM_PER_PS;
use common::{assert_channel_within_sigma, assert_within_sigma, config, transport};

#[test]
fn fresnel_normal_incidence() {
    assert!((normal_reflectance(1.0, 1.5) - 0.04).abs() < 1e-15);
    assert!((normal_reflectance(1.5, 1.0) - 0.04).abs() < 1e-15);
    assert!((normal_reflectance(1.0, 2.5) - (1.5f64 / 3.5).powi(2)).abs() < 1e-15);
    // The oblique formula tends to the normal one.
    let near = interface(1.0, 1.5, 1.0 - 1e-10);
    assert!((near.reflectance - 0.04).abs() < 1e-8);
}

#[test]
fn fresnel_oblique_matches_the_sine_and_tangent_forms() {
    // Rs = sin²(θi−θt)/sin²(θi+θt), Rp = tan²(θi−θt)/tan²(θi+θt) (Born & Wolf §1.5.2).
    for &(n1, n2) in &[(1.0, 1.5), (1.5, 1.0), (1.8, 1.4635)] {
        for deg in [5.0f64, 20.0, 35.0, 40.0] {
            let ti = deg.to_radians();
            let st = n1 / n2 * ti.sin();
            let got = interface(n1, n2, ti.cos());
            if st >= 1.0 {
                assert_eq!(got.reflectance, 1.0);
                continue;
            }
            let tt = st.asin();
            let rs = ((ti - tt).sin() / (ti + tt).sin()).powi(2);
            let rp = ((ti - tt).tan() / (ti + tt).tan()).powi(2);
            assert!(
                (got.reflectance - 0.5 * (rs + rp)).abs() < 1e-12,
                "{n1}->{n2} at {deg}°"
            );
            assert!((got.cos_transmitted.unwrap() - tt.cos()).abs() < 1e-12);
        }
    }
    // Brewster's angle: p-reflectance vanishes, so R = Rs/2.
    let tb = 1.5f64.atan();
    let tt = (tb.sin() / 1.5).asin();
    let rs = ((tb - tt).sin() / (tb + tt).sin()).powi(2);
    assert!((interface(1.0, 1.5, tb.cos()).reflectance - 0.5 * rs).abs() < 1e-12);
    // Beyond the critical angle (41.81° for 1.5 → 1): total internal reflection.
    let tir = interface(1.5, 1.0, 42f64.to_radians().cos());
    assert_eq!((tir.reflectance, tir.cos_transmitted), (1.0, None));
}

const FREE_STANDING: &str = r#"
[film]
thickness_nm = 200_000.0
refractive_index = 1.5
[cover]
refractive_index = 1.0
[substrate]
refractive_index = 1.0
[source]
photons = 1_000_000
[run]
seed = 7
"#;

#[test]
fn free_standing_slab_reflects_2r_over_1_plus_r() {
    // Incoherent multiple reflection in a lossless slab: R_total = 2R/(1+R).
    let c = config(FREE_STANDING);
    let t = transport(&c, 2);
    let r = 0.04;
    let r_total = 2.0 * r / (1.0 + r);
    assert_channel_within_sigma("diffuse", &t, Channel::Top, r_total - r, 3.0);
    assert_channel_within_sigma("transmitted", &t, Channel::Bottom, 1.0 - r_total, 3.0);
    assert!(t.stderr(Channel::Top) > 0.0);
}

#[test]
fn absorbing_slab_transmits_exp_minus_mu_a_d() {
    // Index matched everywhere: the unscattered transmission is exactly e^{−µa d}, and
    // with continuous absorption weighting every packet carries exactly that weight.
    let mut c = config(FREE_STANDING);
    c.film.refractive_index = 1.0;
    c.film.absorption_per_cm = 50.0; // µa·d = 1
    c.source.photons = 10_000;
    let t = transport(&c, 2);
    let expected = (-1.0f64).exp();
    assert!(
        (t.mean(Channel::Bottom) - expected).abs() < 1e-12,
        "{}",
        t.mean(Channel::Bottom)
    );
    assert!((t.mean(Channel::AbsorbedFilm) - (1.0 - expected)).abs() < 1e-12);
    assert_eq!(t.mean(Channel::Top), 0.0);
    assert_eq!(t.mean(Channel::Specular), 0.0);
}

#[test]
fn absorbing_free_standing_slab_with_multiple_reflections() {
    // T = (1−R)² e^{−τ} / (1 − R² e^{−2τ}), R = 0.04 at each face.
    let mut c = config(FREE_STANDING);
    c.film.absorption_per_cm = 50.0; // τ = 1
    let t = transport(&c, 2);
    let (r, a) = (0.04f64, (-1.0f64).exp());
    let expected_t = (1.0 - r).powi(2) * a / (1.0 - r * r * a * a);
    let expected_r = r + r * (1.0 - r).powi(2) * a * a / (1.0 - r * r * a * a);
    assert_channel_within_sigma("T", &t, Channel::Bottom, expected_t, 3.0);
    assert_within_sigma(
        "R",
        t.mean(Channel::Top) + t.mean(Channel::Specular),
        t.stderr(Channel::Top),
        expected_r,
        3.0,
    );
}

/// A film index-matched to a finite substrate whose back faces a medium of index `b`
/// (`substrate.backside_refractive_index`): the two faces reflect R₁ = 0.04 (air on
/// top) and R₂ = ((1.5 − b)/(1.5 + b))², so T = (1 − R₁)(1 − R₂)/(1 − R₁R₂) and the
/// rest is reflected.
#[test]
fn a_finite_substrate_transmits_through_its_back_side_index() {
    for b in [1.0, 1.33, 2.0] {
        let mut c = config(&format!(
            "[film]\nthickness_nm = 1000.0\nrefractive_index = 1.5\n[cover]\nrefractive_index = 1.0\n\
             [substrate]\nrefractive_index = 1.5\nthickness_um = 1000.0\nbackside_refractive_index = {b}\n\
             [source]\nphotons = 200_000\n[run]\nseed = 11\n"
        ));
        c.source.photons = 200_000;
        let t = transport(&c, 2);
        let r1 = 0.04;
        let r2 = ((1.5f64 - b) / (1.5 + b)).powi(2);
        let expected = (1.0 - r1) * (1.0 - r2) / (1.0 - r1 * r2);
        assert_channel_within_sigma(
            &format!("T, back side n = {b}"),
            &t,
            Channel::Bottom,
            expected,
            3.0,
        );
        assert_within_sigma(
            &format!("R, back side n = {b}"),
            t.mean(Channel::Top) + t.mean(Channel::Specular),
            t.stderr(Channel::Top),
            1.0 - expected,
            3.0,
        );
        // Nothing is absorbed or lost on the way.
        assert_eq!(t.mean(Channel::AbsorbedTotal), 0.0);
    }
}

fn isotropic_film(n_film: f64, n_substrate: f64, n_cover: f64) -> asemc::config::Config {
    config(&format!(
        r#"
[film]
thickness_nm = 500.0
refractive_index = {n_film}
[cover]
refractive_index = {n_cover}
[substrate]
refractive_index = {n_substrate}
[source]
kind = "isotropic"
photons = 400_000
[run]
seed = 11
"#
    ))
}

#[test]
fn total_internal_reflection_traps_the_analytic_fraction() {
    // Isotropic emission inside a film: a ray stays in the film when it is totally
    // reflected at both faces, i.e. sin θ > max(n_c, n_s)/n_f, a fraction
    // cos θ_c = √(1 − (max(n_c, n_s)/n_f)²) of all directions.
    for &(nf, ns, nc) in &[(1.8, 1.4635, 1.0), (1.5, 1.0, 1.0), (1.7, 1.0, 1.33)] {
        let c = isotropic_film(nf, ns, nc);
        let t = transport(&c, 2);
        let n_max: f64 = f64::max(ns, nc);
        let expected = (1.0 - (n_max / nf).powi(2)).sqrt();
        assert_channel_within_sigma(
            &format!("trapped fraction, n = {nf}/{ns}/{nc}"),
            &t,
            Channel::Guided,
            expected,
            3.0,
        );
        // Everything else leaves through the faces; nothing is left unresolved.
        assert_eq!(t.mean(Channel::Unresolved), 0.0);
        let out = t.mean(Channel::Top) + t.mean(Channel::Bottom) + t.mean(Channel::Guided);
        assert!((out - 1.0).abs() < 1e-9, "sum {out}");
    }
    // A symmetric stack sends as much out of the top as out of the bottom.
    let t = transport(&isotropic_film(1.5, 1.0, 1.0), 2);
    let err = (t.stderr(Channel::Top).powi(2) + t.stderr(Channel::Bottom).powi(2)).sqrt();
    assert_within_sigma(
        "top − bottom",
        t.mean(Channel::Top) - t.mean(Channel::Bottom),
        err,
        0.0,
        3.0,
    );
}

/// A 10 µm cube of index `n` in air with an isotropic emitter at its centre.
fn centred_cube(n: f64) -> asemc::config::Config {
    let mut c = isotropic_film(n, 1.0, 1.0);
    c.film.thickness_nm = 10_000.0;
    c.film.length_um = 10.0;
    c.film.width_um = 10.0;
    c.source.depth_nm = Some(5_000.0);
    c
}

#[test]
fn a_point_at_the_centre_of_a_cube_sends_a_sixth_through_each_face() {
    // Film 10 µm thick, 10 µm × 10 µm, everything index matched: no reflection, so each
    // of the six faces takes exactly the solid angle 4π/6 of the centre.
    let t = transport(&centred_cube(1.0), 2);
    for ch in asemc::transport::tally::TIMED_EXITS {
        assert_channel_within_sigma(ch.name(), &t, ch, 1.0 / 6.0, 3.0);
    }
}

/// The solid angle a rectangle [a₁, a₂] × [b₁, b₂] in a plane at distance d subtends at
/// the point above the plane's origin: the sum over its corners of
/// ± atan(ab / (d √(a² + b² + d²))), the corner form of the solid angle of a rectangle.
fn rectangle_solid_angle(a: [f64; 2], b: [f64; 2], d: f64) -> f64 {
    let f = |a: f64, b: f64| (a * b / (d * (a * a + b * b + d * d).sqrt())).atan();
    f(a[1], b[1]) - f(a[0], b[1]) - f(a[1], b[0]) + f(a[0], b[0])
}

#[test]
fn an_emitter_off_the_centre_sends_each_face_its_solid_angle() {
    // source.x_um, source.y_um and source.depth_nm place the emitter at (2, −1) µm
    // from the centre, 3.5 µm below the top of the index-matched 10 µm cube: each face
    // takes the solid angle it subtends there over 4π, from 10 % to 25 %.
    let mut c = centred_cube(1.0);
    c.source.x_um = 2.0;
    c.source.y_um = -1.0;
    c.source.depth_nm = Some(3_500.0);
    let t = transport(&c, 2);
    let (x, y, z) = (2.0, -1.0, 3.5);
    let (xs, ys, zs) = ([-5.0 - x, 5.0 - x], [-5.0 - y, 5.0 - y], [-z, 10.0 - z]);
    let faces = [
        (Channel::Top, rectangle_solid_angle(xs, ys, z)),
        (Channel::Bottom, rectangle_solid_angle(xs, ys, 10.0 - z)),
        (Channel::EdgeXPlus, rectangle_solid_angle(ys, zs, 5.0 - x)),
        (Channel::EdgeXMinus, rectangle_solid_angle(ys, zs, 5.0 + x)),
        (Channel::EdgeYPlus, rectangle_solid_angle(xs, zs, 5.0 - y)),
        (Channel::EdgeYMinus, rectangle_solid_angle(xs, zs, 5.0 + y)),
    ];
    let total: f64 = faces.iter().map(|f| f.1).sum();
    assert!(
        (total - 4.0 * std::f64::consts::PI).abs() < 1e-12,
        "{total}"
    );
    for (ch, omega) in faces {
        assert_channel_within_sigma(ch.name(), &t, ch, omega / (4.0 * std::f64::consts::PI), 3.0);
    }
}

#[test]
fn a_lossless_cube_of_high_index_traps_rays_by_total_internal_reflection() {
    // n = 1.5 in air: a ray is trapped for good when it is totally reflected by all
    // three pairs of faces: u_i² + u_j² > 1/n² for every pair. The fraction of
    // directions is integrated here independently of the code, on a fine grid.
    let t = transport(&centred_cube(1.5), 2);
    let limit = 1.0 / (1.5f64 * 1.5);
    let (n_mu, n_phi) = (2000, 2000);
    let mut trapped = 0usize;
    for i in 0..n_mu {
        let uz = -1.0 + 2.0 * (i as f64 + 0.5) / n_mu as f64;
        let s = (1.0 - uz * uz).sqrt();
        for j in 0..n_phi {
            let phi = 2.0 * std::f64::consts::PI * (j as f64 + 0.5) / n_phi as f64;
            let (ux, uy) = (s * phi.cos(), s * phi.sin());
            if ux * ux + uy * uy > limit && uy * uy + uz * uz > limit && ux * ux + uz * uz > limit {
                trapped += 1;
            }
        }
    }
    let expected = trapped as f64 / (n_mu * n_phi) as f64;
    assert!(
        expected > 0.05,
        "the cube must trap a visible fraction: {expected}"
    );
    assert_channel_within_sigma("box-trapped", &t, Channel::Guided, expected, 3.0);
    // The six faces share the rest equally.
    for ch in [Channel::Top, Channel::EdgeXPlus, Channel::EdgeYMinus] {
        assert_channel_within_sigma(ch.name(), &t, ch, (1.0 - expected) / 6.0, 3.0);
    }
}

#[test]
fn henyey_greenstein_sampling_follows_its_density() {
    // χ² test of sampled cos θ against the HG density in 20 bins; critical value of χ²
    // with 19 degrees of freedom at p = 0.001 is 43.82.
    for g in [-0.5, 0.0, 0.75, 0.9] {
        let bins = 20;
        let samples = 200_000;
        let mut counts = vec![0u64; bins];
        let mut rng = Stream::new(3, Purpose::Transport, 0, 0, 0);
        let mut mean = 0.0;
        for _ in 0..samples {
            let mu = hg_cos_theta(g, rng.uniform());
            mean += mu;
            counts[(((mu + 1.0) / 2.0 * bins as f64) as usize).min(bins - 1)] += 1;
        }
        // CDF of HG in µ = cos θ.
        let cdf = |mu: f64| {
            if g == 0.0 {
                (mu + 1.0) / 2.0
            } else {
                (1.0 - g * g) / (2.0 * g)
                    * (1.0 / (1.0 + g * g - 2.0 * g * mu).sqrt() - 1.0 / (1.0 + g))
            }
        };
        let chi2: f64 = (0..bins)
            .map(|b| {
                let lo = -1.0 + 2.0 * b as f64 / bins as f64;
                let hi = lo + 2.0 / bins as f64;
                let expected = samples as f64 * (cdf(hi) - cdf(lo));
                (counts[b] as f64 - expected).powi(2) / expected
            })
            .sum();
        assert!(chi2 < 43.82, "g = {g}: χ² = {chi2}");
        // The mean cosine is g.
        // One sample of cos θ has the variance E[cos²θ] − g² = (1 + 2g²)/3 − g² = (1 − g²)/3.
        let sd = ((1.0 - g * g) / (3.0 * samples as f64)).sqrt();
        assert!(
            (mean / samples as f64 - g).abs() < 4.0 * sd,
            "g = {g}: <µ> = {}",
            mean / samples as f64
        );
    }
}

#[test]
fn time_of_flight_is_n_d_over_c() {
    // A transparent 300 µm film on an index-matched substrate: every packet leaves the
    // bottom after d·n/c.
    let mut c = config(FREE_STANDING);
    c.film.thickness_nm = 300_000.0;
    c.substrate.refractive_index = 1.5;
    c.source.photons = 1000;
    c.tally.time_max_ps = 10.0;
    c.tally.time_bins = 1000;
    let t = transport(&c, 1);
    let arrival_ps = 0.03 * 1.5 / SPEED_OF_LIGHT_CM_PER_PS;
    let bin = (arrival_ps / 0.01) as usize;
    let row = Channel::Bottom.time_row().unwrap();
    let hist = &t.time[row * 1000..(row + 1) * 1000];
    let total: f64 = hist.iter().sum();
    assert!(
        (hist[bin] - total).abs() < 1e-9 * total,
        "all weight in bin {bin}"
    );
    assert!((total / 1000.0 - 0.96).abs() < 1e-12);
}
