// Spontaneous emission from the platelets kept on the device (src/ase/spontaneous.rs,
// launch): the host shares a step's packets among the cells, and the device draws
// each packet's platelet in proportion to its exciton count, its photon energy from
// that platelet's emission line, its time within the step and its direction, as the
// host draws them. The host starts the packets at their platelets' positions, which
// only it keeps.
//
// One workgroup per listed entry: up to 64 packets of one cell, a lane each. Packet k
// of cell c draws on blocks 2k and 2k + 1 of the cell's stream (Spontaneous, point,
// step, c): at most 8 numbers (platelet, up to 2 for the line, time, up to 4 for the
// directions), in the host's order. The platelets are found in one pass over the
// cell, CHUNK at a time: the lanes' prefix sums of their counts in workgroup memory,
// where every packet whose target falls within the chunk looks its platelet up.
// The structs LaunchParams, LaunchEntry and Launched are emitted from src/gpu/shared/structs.rs.

// The homogeneous line shape, fixed when the pipeline is built: Gaussian, else
// Lorentzian (lineshape::Line::sample_offset).
override GAUSSIAN: bool = false;
// From src/gpu/shared/constants.rs: PURPOSE_SPONTANEOUS (Purpose::Spontaneous of src/rng.rs),
// WORKGROUP and NOTHING (a platelet or bin that is none: the packet is booked as
// outside the window).
// Platelets a pass over the cell takes at once, 4 a lane.
const CHUNK: u32 = 4u * WORKGROUP;
const PI: f32 = 3.141592653589793;
// hc, eV·nm (units::HC_EV_NM).
const HC_EV_NM: f32 = 1239.841984;

@group(0) @binding(0) var<uniform> p: LaunchParams;
// Every platelet's exciton count and transition energy (offset, eV), cell by cell.
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> energy: array<f32>;
@group(0) @binding(3) var<storage, read> entries: array<LaunchEntry>;
@group(0) @binding(4) var<storage, read_write> launched: array<Launched>;

// Count of platelet j, 0 past `end`.
fn count_at(j: u32, end: u32) -> u32 {
    return select(0u, counts[min(j, end - 1u)], j < end);
}

// The first lane whose inclusive prefix sum exceeds `x` (a binary search in six
// steps; x below the last lane's sum).
fn lane_holding(x: u32) -> u32 {
    var lo = 0u;
    for (var half = WORKGROUP / 2u; half > 0u; half /= 2u) {
        lo = select(lo, lo + half, lane_sums[lo + half - 1u] <= x);
    }
    return lo;
}

// floor(u·total) for u = (bits + 0.5)/2²⁴ (the 24 bits of uniform01), exactly: the
// target among the cell's sampled excitons.
fn target_of(bits: u32, total: u32) -> u32 {
    let odd = 2u * bits + 1u;
    let hi = mul_hi(odd, total);
    let lo = odd * total;
    return (hi << 7u) | (lo >> 25u);
}

// The unit vector at cosine `cos_x` to +x and azimuth 2π·`u_phi` around it.
fn about_x(cos_x: f32, u_phi: f32) -> vec4<f32> {
    let sin_x = sqrt(max(1.0 - cos_x * cos_x, 0.0));
    let phi = TWO_PI * u_phi;
    return vec4<f32>(cos_x, sin_x * cos(phi), sin_x * sin(phi), 0.0);
}

@compute @workgroup_size(WORKGROUP)
fn spontaneous_emission(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let k = wid.x + wid.y * groups.x;
    if (k >= p.count) {
        return;
    }
    let e = entries[k];
    let mine = lane < e.packets;
    var rng = stream_new(vec2<u32>(p.seed_lo, p.seed_hi), PURPOSE_SPONTANEOUS, p.point, p.step, e.cell);
    rng.counter.x = 2u * (e.k0 + lane);
    let target_exciton = target_of(next_u32(&rng) >> 8u, e.excitons);
    var platelet = NOTHING;

    // One pass over the cell's platelets, a chunk at a time.
    let start = e.cell * p.samples;
    let end = start + p.samples;
    var below = 0u;
    for (var c0 = start; c0 < end; c0 += CHUNK) {
        let j0 = c0 + 4u * lane;
        // The lanes' sums of their 4 counts, then their prefix sums (shared/lanes.wgsl).
        workgroupBarrier();
        lane_sums[lane] = count_at(j0, end) + count_at(j0 + 1u, end) + count_at(j0 + 2u, end)
            + count_at(j0 + 3u, end);
        scan_lane_sums(lane);
        let chunk = lane_sums[WORKGROUP - 1u];
        if (mine && platelet == NOTHING && target_exciton >= below
            && target_exciton - below < chunk) {
            let x = target_exciton - below;
            let l = lane_holding(x);
            var left = x - select(0u, lane_sums[max(l, 1u) - 1u], l > 0u);
            // Within lane l's four platelets.
            var j = c0 + 4u * l;
            let n0 = count_at(j, end);
            let n1 = count_at(j + 1u, end);
            let n2 = count_at(j + 2u, end);
            if (left >= n0) {
                left -= n0;
                j += 1u;
                if (left >= n1) {
                    left -= n1;
                    j += 1u;
                    if (left >= n2) {
                        j += 1u;
                    }
                }
            }
            platelet = j;
        }
        below += chunk;
    }
    if (!mine) {
        return;
    }

    var out = Launched(NOTHING, NOTHING, 0.0, 0u, vec4<f32>(0.0), vec4<f32>(0.0));
    if (platelet != NOTHING) {
        let n = counts[platelet];
        out.platelet = platelet;
        // The emission line (setup::Optics::emission_energy) and an offset from it.
        let line = energy[platelet] - select(0.0, p.biexciton_shift_ev, n > 1u);
        var offset: f32;
        if (GAUSSIAN) {
            let sigma = p.hwhm_ev / sqrt(2.0 * LN_2);
            let u1 = uniform01(&rng);
            let u2 = uniform01(&rng);
            offset = sigma * sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
        } else {
            offset = p.hwhm_ev * tan(PI * (uniform01(&rng) - 0.5));
        }
        out.time = uniform01(&rng);
        // The bin (lineshape::SpectralGrid::bin_of_energy).
        let photon = p.mean_ev + line + offset;
        let b = floor((HC_EV_NM / photon - p.min_nm) / p.bin_nm);
        if (photon > 0.0 && b >= 0.0 && b < f32(p.bins)) {
            out.bin = u32(b);
            if (p.cone == 1u) {
                // spontaneous::in_cones_cos: the cones around ±x, then the rest.
                let a_phi = uniform01(&rng);
                let s = 2.0 * uniform01(&rng) - 1.0;
                let magnitude = 1.0 - (1.0 - p.cone_cos) * abs(s);
                out.dir_a = about_x(select(magnitude, -magnitude, s < 0.0), a_phi);
                let b_phi = uniform01(&rng);
                let b_cos = p.cone_cos * (2.0 * uniform01(&rng) - 1.0);
                out.dir_b = about_x(b_cos, b_phi);
            } else {
                // scatter::isotropic.
                let cos_theta = 2.0 * uniform01(&rng) - 1.0;
                let sin_theta = sqrt(max(1.0 - cos_theta * cos_theta, 0.0));
                let phi = TWO_PI * uniform01(&rng);
                out.dir_a = vec4<f32>(sin_theta * cos(phi), sin_theta * sin(phi), cos_theta, 0.0);
            }
        }
    }
    launched[e.out + lane] = out;
}
