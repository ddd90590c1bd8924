//! The host sides of the check kernels: `shaders/rng_check.wgsl` (the WGSL Philox
//! generator against [`crate::rng`]) and `shaders/random_walk.wgsl` (the device's bare
//! random walk, for the benchmarks).

use super::Gpu;
use super::shared::{RngCheck, WalkParams};
use crate::error::{Error, Result};

/// The first `per_stream` raw numbers of Philox streams `0..streams` computed by the
/// WGSL generator: the check that it equals [`crate::rng`].
pub fn philox_numbers(
    gpu: &Gpu,
    seed: u64,
    purpose: crate::rng::Purpose,
    point: u32,
    step: u32,
    streams: u32,
    per_stream: u32,
) -> Result<Vec<u32>> {
    let params = RngCheck {
        seed: [seed as u32, (seed >> 32) as u32],
        purpose: purpose as u32,
        point,
        step,
        streams,
        per_stream,
        _pad: 0,
    };
    let size = u64::from(streams) * u64::from(per_stream) * 4;
    let (bytes, _) = run_check(gpu, "rng_check", &params, size, streams.div_ceil(64))?;
    Ok(bytemuck::cast_slice(&bytes).to_vec())
}

/// Photon steps per second of the bare random walk of `shaders/random_walk.wgsl`
/// (`invocations` walkers of `steps` steps each, `walkers` times over): the device's
/// practical ceiling, for the benchmarks.
pub fn random_walk_rate(gpu: &Gpu, invocations: u32, walkers: u32, steps: u32) -> Result<f64> {
    let params = WalkParams {
        seed_lo: 1,
        seed_hi: 0,
        steps,
        walkers,
    };
    let size = u64::from(invocations) * 4;
    let (bytes, elapsed) = run_check(gpu, "random_walk", &params, size, invocations.div_ceil(64))?;
    let sum: f32 = bytemuck::cast_slice::<u8, f32>(&bytes).iter().sum();
    if !sum.is_finite() {
        return Err(Error::Runtime("random_walk: non-finite result".into()));
    }
    Ok(f64::from(invocations) * f64::from(walkers) * f64::from(steps) / elapsed)
}

/// Run the check kernel `name` (entry point `name`) over `groups` workgroups, its
/// uniform "`name` params" holding `params`, into a "`name` out" buffer of `size`
/// bytes; returns those bytes and the dispatch's wall time, s.
fn run_check<P: bytemuck::Pod>(
    gpu: &Gpu,
    name: &str,
    params: &P,
    size: u64,
    groups: u32,
) -> Result<(Vec<u8>, f64)> {
    let params = gpu.uniform(&format!("{name} params"), params);
    let out = gpu.storage(&format!("{name} out"), size);
    let pipeline = gpu.pipeline(name, name)?;
    let start = std::time::Instant::now();
    let bytes = gpu.dispatch_and_read(name, &pipeline, &[&params, &out], groups, &out, size)?;
    Ok((bytes, start.elapsed().as_secs_f64()))
}
