// The tallies of one dispatch of the ASE transport (ase_transport.wgsl), summed on the
// device as ase::photons::advance adds them to a step's output: the photons the
// packets gained by stimulated emission, gave to the platelets and lost to the
// background, the weight Russian roulette added or removed, their path segments, and
// the spectrum and time trace of the photons that left through each exit. Packets the
// host follows instead (OVERFLOW) are left to it.
//
// WGSL has no float atomics, and a float sum depends on the order of its terms: every
// photon count is rounded to whole units of 1/`scale` photons and summed as a 128-bit
// integer (four u32 words, lowest first, two's complement), so the totals are the same
// in whatever order the invocations add to them. The host sets `scale` so that the
// heaviest packet's weight at the step's start, rounded up to a power of two, is 2^64
// units: every single-precision term down to 2^-40 of it is then exact, and a total
// holds up to 2^63 of it. Each invocation sums TALLY_RUN consecutive packets in registers and then adds
// its sums to the totals; a packet that left adds its weight to its exit's spectrum
// and time trace at once (few packets leave in a step). A term of more than 2^40 of
// the heaviest packet is not summed but counted (TOTAL_OUT_OF_RANGE), and the host then
// tallies the dispatch itself.
//
// From src/gpu/shared/constants.rs: TALLY_RUN, WORKGROUP, PACKETS_PER_ROW, ENTRIES, EXITS, the
// fates EXITED and OVERFLOW, and the totals' indices, each total four words of a
// 128-bit integer: TOTAL_STIMULATED, TOTAL_ABSORBED, TOTAL_BACKGROUND, TOTAL_ROULETTE,
// TOTAL_SEGMENTS (whole numbers, not scaled), TOTAL_OUT_OF_RANGE (terms beyond the
// range of the fixed point, whole numbers), then from TOTAL_SCALARS each exit's
// spectrum (bins), then each exit's time trace (time bins).
// The structs TallyParams, MovedPacket and Entry are emitted from src/gpu/shared/structs.rs.

// 2^104 units (2^40 of the heaviest packet): the largest term summed.
const MAX_UNITS: f32 = 20282409603651670423947251286016.0;
const TWO_32: f32 = 4294967296.0;
const TWO_64: f32 = 18446744073709551616.0;
const TWO_96: f32 = 79228162514264337593543950336.0;

@group(0) @binding(0) var<uniform> p: TallyParams;
// The moved packets and their entries, as ase_transport.wgsl leaves them.
@group(0) @binding(1) var<storage, read> packets: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> entries: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> totals: array<atomic<u32>>;
// The packets as the host wrote them (for their spectral bins).
@group(0) @binding(4) var packets_in: texture_2d<u32>;

// Terms of this invocation beyond the fixed point's range.
var<private> out_of_range: u32;

// x + y + carry (0 or 1) in one word: the sum and the carry out.
fn add_word(x: u32, y: u32, carry: u32) -> vec2<u32> {
    let s = x + y;
    let t = s + carry;
    return vec2<u32>(t, select(0u, 1u, s < x) + select(0u, 1u, t < s));
}

// a + b, modulo 2^128.
fn add(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    let w0 = add_word(a.x, b.x, 0u);
    let w1 = add_word(a.y, b.y, w0.y);
    let w2 = add_word(a.z, b.z, w1.y);
    let w3 = add_word(a.w, b.w, w2.y);
    return vec4<u32>(w0.x, w1.x, w2.x, w3.x);
}

// -m, modulo 2^128.
fn negate(m: vec4<u32>) -> vec4<u32> {
    return add(~m, vec4<u32>(1u, 0u, 0u, 0u));
}

// x photons in whole units of the fixed point (rounded to the nearest); zero, and
// counted, when beyond its range (or not a number).
fn fixed(x: f32) -> vec4<u32> {
    var v = round(abs(x) * p.scale);
    if (!(v <= MAX_UNITS)) {
        out_of_range += 1u;
        return vec4<u32>(0u);
    }
    // Word by word from the highest; each part is exact (v has 24 significant bits).
    let w3 = floor(v * (1.0 / TWO_96));
    v -= w3 * TWO_96;
    let w2 = floor(v * (1.0 / TWO_64));
    v -= w2 * TWO_64;
    let w1 = floor(v * (1.0 / TWO_32));
    v -= w1 * TWO_32;
    let m = vec4<u32>(u32(v), u32(w1), u32(w2), u32(w3));
    return select(m, negate(m), x < 0.0);
}

// A whole number as a 128-bit integer.
fn whole(n: u32) -> vec4<u32> {
    return vec4<u32>(n, 0u, 0u, 0u);
}

// Add v to total k, word by word from the lowest, each word's carry into the next.
fn add_total(k: u32, v: vec4<u32>) {
    var carry = 0u;
    for (var j = 0u; j < 4u; j++) {
        let x = v[j] + carry;
        carry = select(0u, 1u, x < carry);
        if (x != 0u) {
            let old = atomicAdd(&totals[4u * k + j], x);
            carry += select(0u, 1u, old + x < old);
        }
    }
}

@compute @workgroup_size(64)
fn tallies(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let first = (gid.x + gid.y * groups.x * WORKGROUP) * TALLY_RUN;
    if (first >= p.count) {
        return;
    }
    out_of_range = 0u;
    var stimulated = vec4<u32>(0u);
    var absorbed = vec4<u32>(0u);
    var background = vec4<u32>(0u);
    var roulette = vec4<u32>(0u);
    var segments = vec4<u32>(0u);
    for (var i = first; i < min(first + TALLY_RUN, p.count); i++) {
        let words = packets[3u * i + 2u];
        let state = words.w;
        let fate = (state >> 8u) & 0xffu;
        if (fate == OVERFLOW) {
            continue;
        }
        background = add(background, fixed(bitcast<f32>(words.x)));
        roulette = add(roulette, fixed(bitcast<f32>(words.y)));
        segments = add(segments, whole(words.z));
        let used = state >> 24u;
        for (var k = 0u; k < used; k++) {
            let e = entries[i * ENTRIES + k];
            stimulated = add(stimulated, fixed(bitcast<f32>(e.y)));
            absorbed = add(absorbed, fixed(bitcast<f32>(e.z)));
        }
        if (fate == EXITED) {
            let moved = bitcast<vec4<f32>>(packets[3u * i + 1u]);
            let weight = fixed(moved.z);
            let exit = (state >> 16u) & 0xffu;
            let texel = vec2<i32>(i32(3u * (i % PACKETS_PER_ROW) + 2u), i32(i / PACKETS_PER_ROW));
            let bin = textureLoad(packets_in, texel, 0).y;
            let within = u32(floor(p.start_fraction + moved.w * p.per_time_bin));
            let time_bin = min(p.start_bin + within, p.time_bins - 1u);
            add_total(TOTAL_SCALARS + exit * p.bins + bin, weight);
            add_total(TOTAL_SCALARS + EXITS * p.bins + exit * p.time_bins + time_bin, weight);
        }
    }
    add_total(TOTAL_STIMULATED, stimulated);
    add_total(TOTAL_ABSORBED, absorbed);
    add_total(TOTAL_BACKGROUND, background);
    add_total(TOTAL_ROULETTE, roulette);
    add_total(TOTAL_SEGMENTS, segments);
    add_total(TOTAL_OUT_OF_RANGE, whole(out_of_range));
}
