//! The MCML / van de Hulst benchmark slab (PHYSICS.md): albedo 0.9, optical thickness
//! 2, g = 0.75, pencil beam at normal incidence, ambient n = 1 on both sides.
//! References: van de Hulst's tables as used by MCML (Wang, Jacques & Zheng 1995),
//! confirmed with Prahl's adding–doubling code.

mod common;
use asemc::config::Config;
use asemc::transport::Channel;
use common::{assert_within_sigma, config, configs_dir, transport};

/// The shipped validation config (n = 1.5), with the slab index set to `n`.
fn slab(n: f64) -> Config {
    let text = std::fs::read_to_string(configs_dir().join("validation/mcml_slab.toml")).unwrap();
    let mut c = config(&text);
    c.film.refractive_index = n;
    c
}

/// The slab of index `n` against its references (the columns of the tables): the
/// specular reflectance equals `specular`; the diffuse reflectance (top) and the total
/// transmittance (bottom), each within 3σ of `diffuse` and `transmitted`.
fn check(n: f64, specular: f64, diffuse: f64, transmitted: f64) {
    let c = &slab(n);
    assert!(c.source.photons >= 1_000_000);
    let tally = transport(c, 2);
    // The specular reflection at the first surface is booked deterministically.
    let booked = tally.mean(Channel::Specular);
    assert!((booked - specular).abs() < 1e-12, "specular {booked}");
    assert_eq!(tally.stderr(Channel::Specular), 0.0);
    for (channel, reference) in [(Channel::Top, diffuse), (Channel::Bottom, transmitted)] {
        let (value, stderr) = (tally.mean(channel), tally.stderr(channel));
        // A real Monte Carlo error bar, small enough for the comparison to mean something.
        assert!(
            stderr > 0.0 && stderr < 1e-3,
            "{}: stderr {stderr}",
            channel.name()
        );
        assert_within_sigma(channel.name(), value, stderr, reference, 3.0);
    }
}

#[test]
fn index_matched_slab_matches_van_de_hulst() {
    check(1.0, 0.0, 0.09739, 0.66096);
}

#[test]
fn mismatched_slab_matches_mcml() {
    check(1.5, 0.04, 0.08683, 0.49317);
}

#[test]
fn weight_is_conserved_up_to_roulette_noise() {
    let c = slab(1.5);
    let t = transport(&c, 2);
    let out: f64 = [
        Channel::Specular,
        Channel::Top,
        Channel::Bottom,
        Channel::AbsorbedTotal,
    ]
    .iter()
    .map(|&ch| t.mean(ch))
    .sum();
    // Roulette adds or removes weight at random with zero mean: the sum is 1 within
    // its noise, far below the tallies' own standard errors.
    let bound = common::roulette_bound(&c, t.photons);
    println!(
        "channels sum to 1 {:+.2e} (roulette bound {bound:.2e})",
        out - 1.0
    );
    assert!((out - 1.0).abs() <= bound, "sum {out}, bound {bound:.2e}");
    assert!(
        bound < t.stderr(Channel::AbsorbedTotal),
        "a bound below the tallies' noise"
    );
}
