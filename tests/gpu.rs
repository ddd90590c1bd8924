//! The GPU backend on a real adapter (lavapipe in CI). Without an adapter these tests
//! print that they were skipped, except under CI (`ASEMC_REQUIRE_GPU` set), where a
//! missing adapter fails them.

use asemc::gpu::{Gpu, philox_numbers};
use asemc::rng::{Purpose, Stream};

/// The GPU, or `None` (skipped) when there is none and none is required.
fn gpu() -> Option<Gpu> {
    match Gpu::open().expect("the GPU opens") {
        Some(g) => {
            println!("GPU: {}", g.describe());
            Some(g)
        }
        None => {
            assert!(
                std::env::var_os("ASEMC_REQUIRE_GPU").is_none(),
                "ASEMC_REQUIRE_GPU is set but wgpu finds no adapter (install mesa-vulkan-drivers)"
            );
            println!("skipped: wgpu finds no adapter here");
            None
        }
    }
}

#[test]
fn wgsl_philox_equals_the_rust_generator() {
    let Some(gpu) = gpu() else { return };
    for (seed, purpose, point, step) in [
        (0u64, Purpose::Transport, 0u32, 0u32),
        (2021, Purpose::Photon, 7, 1234),
        (u64::MAX, Purpose::Exchange, 65_535, (1 << 28) - 1),
        (0x0123_4567_89AB_CDEF, Purpose::Spontaneous, 3, 99),
    ] {
        let (streams, per_stream) = (100u32, 100u32);
        let got = philox_numbers(&gpu, seed, purpose, point, step, streams, per_stream).unwrap();
        let mut want = Vec::new();
        for entity in 0..streams {
            let mut s = Stream::new(seed, purpose, point, step, entity);
            want.extend((0..per_stream).map(|_| s.next_u32()));
        }
        assert_eq!(got.len(), want.len());
        let first_bad = got.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            first_bad.is_none(),
            "seed {seed}, {purpose:?}: number {} differs: {} vs {}",
            first_bad.unwrap(),
            got[first_bad.unwrap()],
            want[first_bad.unwrap()]
        );
    }
}
