// A bare photon random walk in an infinite scattering and absorbing medium: the
// practical ceiling of photon steps per second on a device, for the benchmarks.
// Each invocation walks `walkers` packets of `steps` steps each and writes the sum of
// their final depths, so nothing is optimised away.
// The struct WalkParams is emitted from src/gpu/shared/structs.rs.

@group(0) @binding(0) var<uniform> w: WalkParams;
@group(0) @binding(1) var<storage, read_write> depth_sum: array<f32>;

@compute @workgroup_size(64)
fn random_walk(@builtin(global_invocation_id) gid: vec3<u32>) {
    var rng = stream_new(vec2<u32>(w.seed_lo, w.seed_hi), 1u, 0u, 0u, gid.x);
    var total = 0.0;
    for (var k = 0u; k < w.walkers; k++) {
        var pos = vec3<f32>(0.0);
        var dir = vec3<f32>(0.0, 0.0, 1.0);
        var weight = 1.0;
        for (var i = 0u; i < w.steps; i++) {
            let s = -log(uniform01(&rng));
            pos = pos + s * dir;
            weight = weight * 0.99;
            let cos_t = 2.0 * uniform01(&rng) - 1.0;
            let sin_t = sqrt(max(1.0 - cos_t * cos_t, 0.0));
            let phi = 6.283185307 * uniform01(&rng);
            dir = vec3<f32>(sin_t * cos(phi), sin_t * sin(phi), cos_t);
        }
        total += pos.z * weight;
    }
    depth_sum[gid.x] = total;
}
