// The first numbers of several Philox streams, to check WGSL against src/rng.rs.
// The struct RngCheck is emitted from src/gpu/shared/structs.rs.

@group(0) @binding(0) var<uniform> params: RngCheck;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn rng_check(@builtin(global_invocation_id) id: vec3<u32>) {
    let entity = id.x;
    if (entity >= params.streams) {
        return;
    }
    var s = stream_new(params.seed, params.purpose, params.point, params.step, entity);
    for (var i = 0u; i < params.per_stream; i++) {
        out[entity * params.per_stream + i] = next_u32(&s);
    }
}
