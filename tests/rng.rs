//! The counter-based generator against the Random123 known-answer vectors, and the
//! independence of its streams.

use asemc::rng::{Purpose, Stream, philox4x32};

#[test]
fn philox4x32_10_known_answers() {
    // Random123 kat_vectors: philox4x32 10 rounds.
    assert_eq!(
        philox4x32([0, 0, 0, 0], [0, 0]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        philox4x32([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        philox4x32(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
}

#[test]
fn uniforms_are_in_the_open_unit_interval_and_uniform() {
    let mut s = Stream::new(42, Purpose::Transport, 3, 0, 17);
    let n = 1_000_000;
    let mut sum = 0.0;
    for _ in 0..n {
        let u = s.uniform();
        assert!(u > 0.0 && u < 1.0);
        sum += u;
    }
    // Mean 1/2 with standard error 1/√(12 n).
    let se = (1.0 / (12.0 * n as f64)).sqrt();
    assert!((sum / n as f64 - 0.5).abs() < 4.0 * se);
}

#[test]
fn streams_differ_by_every_key_component() {
    let first = |seed, point, step, entity| {
        let mut s = Stream::new(seed, Purpose::Transport, point, step, entity);
        [
            s.next_u32(),
            s.next_u32(),
            s.next_u32(),
            s.next_u32(),
            s.next_u32(),
        ]
    };
    let base = first(1, 0, 0, 0);
    assert_eq!(base, first(1, 0, 0, 0));
    for other in [
        first(2, 0, 0, 0),
        first(1 << 40, 0, 0, 0),
        first(1, 1, 0, 0),
        first(1, 0, 1, 0),
        first(1, 0, 0, 1),
    ] {
        assert_ne!(base, other);
    }
}
