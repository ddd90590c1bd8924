//! The samplers of the ASE engine: sharing spontaneous-emission packets among cells
//! (systematic sampling), drawing platelets in proportion to changing weights, and the
//! homogeneous line shapes' offsets, and the strata of spontaneous directions.

mod common;
use asemc::ase::spontaneous::allocate;
use asemc::ase::weight_tree::WeightTree;
use asemc::rng::{Purpose, Stream};

#[test]
fn packets_are_shared_in_proportion_to_emission() {
    let emission = [0.0, 3.0, 0.5, 0.0, 7.25, 1e-9, 2.0, 0.0];
    let total: f64 = emission.iter().sum();
    let mut rng = Stream::new(7, Purpose::Spontaneous, 0, 0, 0);
    for packets in [1u32, 5, 64, 1000] {
        for _ in 0..200 {
            let counts = allocate(&emission, packets, rng.uniform());
            assert_eq!(counts.iter().sum::<u32>(), packets);
            for (e, &n) in emission.iter().zip(&counts) {
                let expected = e / total * f64::from(packets);
                assert!(
                    f64::from(n) >= expected.floor() && f64::from(n) <= expected.ceil(),
                    "{n} packets for an expected {expected}"
                );
                if *e == 0.0 {
                    assert_eq!(n, 0);
                }
            }
        }
    }
    assert_eq!(allocate(&[0.0, 0.0], 10, 0.3), vec![0, 0]);
}

#[test]
fn weight_tree_draws_in_proportion_to_weights_as_they_change() {
    let mut tree = WeightTree::new(vec![1.0, 0.0, 3.0, 4.0]);
    assert_eq!(tree.total(), 8.0);
    tree.set(3, 0.0);
    tree.set(1, 2.0);
    assert_eq!(tree.total(), 6.0);
    let mut rng = Stream::new(11, Purpose::Exchange, 0, 0, 0);
    let draws = 60_000;
    let mut hits = [0u32; 4];
    for _ in 0..draws {
        hits[tree.find(rng.uniform() * tree.total()).unwrap()] += 1;
    }
    assert_eq!(hits[3], 0);
    for (i, w) in [1.0, 2.0, 3.0].iter().enumerate() {
        let p = w / 6.0;
        let expected = p * f64::from(draws);
        let sigma = (expected * (1.0 - p)).sqrt();
        assert!(
            (f64::from(hits[i]) - expected).abs() <= 4.0 * sigma,
            "index {i}: {} draws for an expected {expected}",
            hits[i]
        );
    }
    assert_eq!(WeightTree::new(vec![0.0, 0.0]).find(0.0), None);
}

/// Both homogeneous line shapes are 1 at the centre and ½ at the half width, and their
/// sampled offsets follow the normalised shape: over 20 bins across ±4 half widths and
/// two tail bins, χ² of 10⁵ draws below 46.80 (21 degrees of freedom, p = 0.001), each
/// bin's probability the integral of φ/∫φ by Simpson's rule (∫φ = π·HWHM for the
/// Lorentzian, √(π/ln 2)·HWHM for the Gaussian).
#[test]
fn line_shapes_draw_offsets_from_their_densities() {
    use asemc::ase::lineshape::Line;
    use asemc::config::LineShape;
    let hwhm = 0.02;
    for (shape, norm) in [
        (LineShape::Lorentzian, std::f64::consts::PI * hwhm),
        (
            LineShape::Gaussian,
            (std::f64::consts::PI / std::f64::consts::LN_2).sqrt() * hwhm,
        ),
    ] {
        let line = Line {
            shape,
            hwhm_ev: hwhm,
        };
        assert_eq!(line.phi(0.0), 1.0);
        assert!((line.phi(hwhm) - 0.5).abs() < 1e-15 && (line.phi(-hwhm) - 0.5).abs() < 1e-15);
        let simpson = |a: f64, b: f64| common::simpson(|x| line.phi(x), a, b, 200) / norm;
        let edges: Vec<f64> = (0..=20).map(|i| hwhm * (-4.0 + 0.4 * i as f64)).collect();
        let inner: Vec<f64> = edges.windows(2).map(|w| simpson(w[0], w[1])).collect();
        let inside: f64 = inner.iter().sum();
        // The two tails share what lies outside, equally (both shapes are symmetric).
        let mut p = vec![0.5 * (1.0 - inside)];
        p.extend(inner);
        p.push(0.5 * (1.0 - inside));
        let n = 100_000;
        let mut counts = vec![0u32; p.len()];
        let mut rng = Stream::new(99, Purpose::Analysis, 0, 0, shape as u32);
        for _ in 0..n {
            let x = line.sample_offset(&mut rng);
            let k = if x < edges[0] {
                0
            } else if x >= edges[20] {
                21
            } else {
                1 + ((x - edges[0]) / (0.4 * hwhm)).floor().min(19.0) as usize
            };
            counts[k] += 1;
        }
        let chi2: f64 = counts
            .iter()
            .zip(&p)
            .map(|(&c, &q)| (f64::from(c) - n as f64 * q).powi(2) / (n as f64 * q))
            .sum();
        eprintln!("{shape:?}: χ² = {chi2:.2}");
        assert!(chi2 < 46.80, "{shape:?}: χ² = {chi2:.1}");
    }
}

/// The two strata of spontaneous directions (`run.axial_cone_deg`), weighted by their
/// shares 1 − cos θ and cos θ, make up isotropic emission: the cosine to +x of the
/// sub-packet in the cones is uniform over [−1, −cos θ] ∪ [cos θ, 1], that of the other
/// uniform over (−cos θ, cos θ), so the weighted density is ½ everywhere. Over 10 bins
/// of each stratum, χ² of 10⁵ draws below 27.88 (9 degrees of freedom, p = 0.001), and
/// the cones hold as many draws toward −x as toward +x.
#[test]
fn the_stratified_directions_make_up_isotropic_emission() {
    use asemc::ase::spontaneous::{in_cones_cos, rest_cos};
    let n = 100_000;
    let bins = 10;
    let chi2 = |counts: &[u32]| -> f64 {
        let e = n as f64 / bins as f64;
        counts.iter().map(|&c| (f64::from(c) - e).powi(2) / e).sum()
    };
    for deg in [5.0f64, 10.0, 30.0, 60.0] {
        let c = deg.to_radians().cos();
        let mut rng = Stream::new(5, Purpose::Analysis, 0, 0, deg as u32);
        let (mut cones, mut rest) = (vec![0u32; bins], vec![0u32; bins]);
        let mut toward_minus_x = 0u32;
        for _ in 0..n {
            let a = in_cones_cos(c, rng.uniform());
            assert!(
                a.abs() >= c && a.abs() <= 1.0,
                "{a} outside the cones of cos {c}"
            );
            toward_minus_x += u32::from(a < 0.0);
            // Each half of the cones is half the bins: |cos| uniform on [c, 1].
            let half = ((a.abs() - c) / (1.0 - c) * (bins / 2) as f64).min((bins / 2 - 1) as f64);
            cones[half as usize + if a < 0.0 { 0 } else { bins / 2 }] += 1;
            let b = rest_cos(c, rng.uniform());
            assert!(b.abs() < c || b == -c, "{b} inside the cones of cos {c}");
            rest[(((b + c) / (2.0 * c) * bins as f64) as usize).min(bins - 1)] += 1;
        }
        let sigma = (n as f64 * 0.25).sqrt();
        assert!(
            (f64::from(toward_minus_x) - 0.5 * n as f64).abs() < 4.0 * sigma,
            "{deg}°: {toward_minus_x} of {n} toward −x"
        );
        let (chi_cones, chi_rest) = (chi2(&cones), chi2(&rest));
        eprintln!("{deg}°: χ² cones {chi_cones:.2}, rest {chi_rest:.2}");
        assert!(
            chi_cones < 27.88 && chi_rest < 27.88,
            "{deg}°: χ² {chi_cones:.1}, {chi_rest:.1}"
        );
    }
}
