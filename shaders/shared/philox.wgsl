// Philox4x32-10 counter-based random numbers, bit for bit the generator of src/rng.rs
// (Salmon et al., SC'11). WGSL has no 64-bit integers, so the 32×32 → 64-bit products
// are assembled from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
// Bits of counter word 2 that hold the step index; the purpose sits above them.
const STEP_BITS: u32 = 28u;

// The high 32 bits of the 64-bit product a·b.
fn mul_hi(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    // At most 2^32 − 1: no overflow.
    let cross = (lo_lo >> 16u) + (hi_lo & 0xFFFFu) + lo_hi;
    return a_hi * b_hi + (hi_lo >> 16u) + (cross >> 16u);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round++) {
        if (round > 0u) {
            k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let hi0 = mul_hi(PHILOX_M0, c.x);
        let lo0 = PHILOX_M0 * c.x;
        let hi1 = mul_hi(PHILOX_M1, c.z);
        let lo1 = PHILOX_M1 * c.z;
        c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// A stream: counter words [block, entity, purpose << 28 | step, point], key = seed.
struct Stream {
    key: vec2<u32>,
    counter: vec4<u32>,
    block: vec4<u32>,
    used: u32,
}

fn stream_new(seed: vec2<u32>, purpose: u32, point: u32, step: u32, entity: u32) -> Stream {
    return Stream(seed, vec4<u32>(0u, entity, (purpose << STEP_BITS) | step, point), vec4<u32>(0u), 4u);
}

fn next_u32(s: ptr<function, Stream>) -> u32 {
    if ((*s).used == 4u) {
        (*s).block = philox4x32((*s).counter, (*s).key);
        (*s).counter.x = (*s).counter.x + 1u;
        (*s).used = 0u;
    }
    // Branch-free pick of word `used`, so the state stays in registers.
    let u = (*s).used;
    let b = (*s).block;
    let x = select(select(b.w, b.z, u == 2u), select(b.y, b.x, u == 0u), u < 2u);
    (*s).used = u + 1u;
    return x;
}

// A uniform number in the open interval (0, 1) from the top 24 bits (exact in f32).
fn uniform01(s: ptr<function, Stream>) -> f32 {
    return (f32(next_u32(s) >> 8u) + 0.5) * (1.0 / 16777216.0);
}

// A stream read ahead, for kernels whose SIMD lanes draw numbers in different
// branches: its next unused words, in order, in q0..q2 (12 at most). Blocks are
// generated at one place per loop iteration (`refill`), not inside every branch that
// draws a number: on a SIMD device a branch taken by any lane runs for all of them,
// and a Philox block in each of several branches costs more than the rest of a step.
// The words are used in the stream's order, so every packet draws exactly the numbers
// it draws on the CPU.
var<private> ahead_key: vec2<u32>;
var<private> ahead_counter: vec4<u32>;
var<private> q0: vec4<u32>;
var<private> q1: vec4<u32>;
var<private> q2: vec4<u32>;
var<private> avail: u32;

// Start the stream read ahead (as stream_new).
fn ahead_start(seed: vec2<u32>, purpose: u32, point: u32, step: u32, entity: u32) {
    ahead_key = seed;
    ahead_counter = vec4<u32>(0u, entity, (purpose << STEP_BITS) | step, point);
    avail = 0u;
}

// Word k (0–3) of block b.
fn word(b: vec4<u32>, k: u32) -> u32 {
    return select(select(b.w, b.z, k == 2u), select(b.y, b.x, k == 0u), k < 2u);
}

// Slot `slot` after appending block b at position `avail`.
fn put(slot: u32, old: u32, b: vec4<u32>) -> u32 {
    let k = slot - avail;
    return select(old, word(b, k), slot >= avail && k < 4u);
}

// Append the stream's next block if there is room for it: after a refill at least 4
// numbers are ahead, after two at least 8.
fn refill() {
    if (avail <= 8u) {
        let b = philox4x32(ahead_counter, ahead_key);
        ahead_counter.x += 1u;
        q0 = vec4<u32>(put(0u, q0.x, b), put(1u, q0.y, b), put(2u, q0.z, b), put(3u, q0.w, b));
        q1 = vec4<u32>(put(4u, q1.x, b), put(5u, q1.y, b), put(6u, q1.z, b), put(7u, q1.w, b));
        q2 = vec4<u32>(put(8u, q2.x, b), put(9u, q2.y, b), put(10u, q2.z, b), put(11u, q2.w, b));
        avail += 4u;
    }
}

// The next uniform number in (0, 1) of the stream read ahead (as uniform01).
fn take01() -> f32 {
    let x = q0.x;
    q0 = vec4<u32>(q0.yzw, q1.x);
    q1 = vec4<u32>(q1.yzw, q2.x);
    q2 = vec4<u32>(q2.yzw, 0u);
    avail -= 1u;
    return (f32(x >> 8u) + 0.5) * (1.0 / 16777216.0);
}
