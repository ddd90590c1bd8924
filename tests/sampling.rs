//! The samplers of the ASE engine: sharing spontaneous-emission packets among cells
//! (systematic sampling) and drawing platelets in proportion to changing weights.

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
