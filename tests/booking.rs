//! The draw that books excitons on a cell's platelets: each platelet is chosen in
//! proportion to its weight, both by rejection (weights near the bound) and through the
//! tree it falls back to (weights far below it), within 4σ of the binomial count.

mod common;
use asemc::ase::AseSetup;
use asemc::ase::exchange::Booking;
use asemc::ase::platelets::Platelet;
use asemc::rng::{Purpose, Stream};
use common::small_film;

/// Draw `draws` single moves from platelets whose weights are `scale`·(0, 1/7, …, 1)
/// by their count n (put back after each draw), and compare each platelet's tally with
/// draws·wᵢ/Σw.
fn check(scale: f64) {
    let setup = AseSetup::from_config(&small_film(&[])).unwrap();
    let mut platelets: Vec<Platelet> = (0..8)
        .map(|n| Platelet {
            energy_ev: 2.58,
            n,
            next_ps: f64::INFINITY,
            pos: [0.0; 3],
        })
        .collect();
    let weight = |p: &Platelet| scale * f64::from(p.n) / 7.0;
    let total: f64 = platelets.iter().map(weight).sum();
    let draws = 200_000u64;
    let mut counts = vec![0u64; platelets.len()];
    let mut rng = Stream::new(5, Purpose::Exchange, 0, 0, 0);
    for _ in 0..draws {
        let mut booking = Booking::new(&mut platelets);
        let left = booking.moves_bounded(&setup, 1, 1, weight, 1.0, 0.0, &mut rng);
        assert_eq!(left, 0);
        drop(booking);
        // The moved platelet gained an exciton: note it and take the exciton back.
        let moved = platelets
            .iter()
            .enumerate()
            .position(|(i, p)| p.n != i as u32)
            .expect("one platelet moved");
        counts[moved] += 1;
        platelets[moved].n -= 1;
    }
    for (i, (&c, p)) in counts.iter().zip(&platelets).enumerate() {
        let share = weight(p) / total;
        let want = draws as f64 * share;
        let sigma = (draws as f64 * share * (1.0 - share)).sqrt();
        println!("scale {scale}: platelet {i}: {c} draws, expected {want:.0} ± {sigma:.0}");
        if share == 0.0 {
            assert_eq!(c, 0, "a platelet of weight 0 was drawn");
        } else {
            assert!(
                (c as f64 - want).abs() <= 4.0 * sigma,
                "scale {scale}: platelet {i} drawn {c} times, expected {want:.0} ± {sigma:.0}"
            );
        }
    }
}

#[test]
fn rejection_draws_in_proportion_to_the_weights() {
    check(1.0);
}

#[test]
fn the_tree_fallback_draws_in_proportion_to_the_weights() {
    // Weights of 1e-4 at most: the 8 proposals allowed almost never hit one, so the
    // tree decides.
    check(1e-4);
}

#[test]
fn nothing_is_drawn_when_every_weight_is_zero() {
    let setup = AseSetup::from_config(&small_film(&[])).unwrap();
    let mut platelets = vec![
        Platelet {
            energy_ev: 2.58,
            n: 0,
            next_ps: f64::INFINITY,
            pos: [0.0; 3],
        };
        5
    ];
    let mut rng = Stream::new(5, Purpose::Exchange, 0, 0, 0);
    let mut booking = Booking::new(&mut platelets);
    let left = booking.moves_bounded(&setup, 3, -1, |p| f64::from(p.n), 1.0, 0.0, &mut rng);
    assert_eq!(left, 3);
}
