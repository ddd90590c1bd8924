// Booking whole sampled excitons against a cell's platelets (src/ase/exchange.rs,
// Booking): the stimulated emission and absorption of a step's photons in each
// spectral bin (apply_cell), or the cell's radiative decay (spontaneous.rs,
// book_radiative). Each order moves `count` excitons one at a time, each on a platelet
// drawn in proportion to its weight as it is when drawn: σ_e/σ₀ at the bin's energy for
// stimulated emission (one exciton less), σ_a/σ₀ for absorption (one more), the count
// n for radiative decay (one less). Every moved platelet's next loss event is drawn
// anew at the booking time.
//
// The host draws each exciton's platelet by rejection, one proposal after another: a
// platelet chosen uniformly, accepted with probability weight/bound. Here the 64
// invocations of a workgroup make 64 proposals at once, taken in invocation order as
// if made one after another: every accepted proposal is a move, until the order is
// done or a proposal falls on a platelet an earlier accepted proposal of the round
// moved (its weight was read before that move; it and the rest of the round are
// dropped unused). So each move is drawn exactly as the host draws it, from other
// random numbers. Where proposals keep failing (weights far below the bound, or all
// zero), a move is drawn from the cell's summed weights instead, as the host falls
// back on its Fenwick tree; when they sum to zero the rest of the order is left
// unbooked.
//
// One workgroup per listed cell; after its orders it sums what the cell holds.

// Fixed when the pipeline is built: the Auger scaling (cubic, else bimolecular) and
// the homogeneous line shape (Gaussian, else Lorentzian).
override CUBIC: bool = false;
override GAUSSIAN: bool = false;
const LN_2: f32 = 0.6931471805599453;
const WORKGROUP: u32 = 64u;
// Order kinds.
const STIMULATED: u32 = 0u;
const ABSORBED: u32 = 1u;
const RADIATIVE: u32 = 2u;

struct BookingParams {
    seed_lo: u32,
    seed_hi: u32,
    point: u32,
    step: u32,
    samples: u32,
    degeneracy: u32,
    // Cells in this dispatch (listed in `cells`).
    count: u32,
    // Purpose of the random streams (src/rng.rs): Exchange or Radiative.
    purpose: u32,
    // The booking time, ps.
    t_now: f32,
    k_nonrad: f32,
    k_xx: f32,
    inv_hwhm: f32,
    biexciton_shift_ev: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

// Move `count` excitons of kind `kind`, for photons at `energy` (offset from the mean
// transition energy, eV; unused for radiative decay).
struct Order {
    energy: f32,
    kind: u32,
    count: u32,
    _pad0: u32,
}

// What a listed cell holds after its orders, and how many excitons they moved.
struct CellBooked {
    excitons: u32,
    room: u32,
    next: f32,
    moved: u32,
}

@group(0) @binding(0) var<uniform> p: BookingParams;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> next: array<f32>;
// Every platelet's transition energy, offset from the mean, eV.
@group(0) @binding(3) var<storage, read> energy: array<f32>;
@group(0) @binding(4) var<storage, read> cells: array<u32>;
// The orders of the k-th listed cell are orders[first[k]..first[k + 1]], booked in
// that order.
@group(0) @binding(5) var<storage, read> first: array<u32>;
@group(0) @binding(6) var<storage, read> orders: array<Order>;
// For each order, the excitons it could not move.
@group(0) @binding(7) var<storage, read_write> left: array<u32>;
@group(0) @binding(8) var<storage, read_write> booked: array<CellBooked>;

// A round's proposals: the platelet (within the cell) and whether it was accepted.
var<workgroup> proposed: array<u32, WORKGROUP>;
var<workgroup> accepted: array<u32, WORKGROUP>;
// The first invocation whose proposal fell on a platelet moved earlier in the round.
var<workgroup> cut: atomic<u32>;
var<workgroup> remaining: u32;
// Excitons of the order that could not be moved.
var<workgroup> unbooked: u32;
// Moves of the round.
var<workgroup> made: atomic<u32>;
// Excitons moved by the cell's orders.
var<workgroup> sum_moved: atomic<u32>;
var<workgroup> bound: atomic<u32>;
// Proposals since the last move.
var<workgroup> fruitless: u32;
// Each invocation's sum of weights over its stretch of the cell, and which invocation's
// stretch holds a summed-weight draw, and where in it.
var<workgroup> partial: array<f32, WORKGROUP>;
var<workgroup> within: f32;
var<workgroup> owner: u32;
var<workgroup> sum_excitons: atomic<u32>;
var<workgroup> sum_room: atomic<u32>;
var<workgroup> earliest_bits: atomic<u32>;

fn infinity() -> f32 {
    return bitcast<f32>(0x7f800000u);
}

// φ at offset `delta` from a line's centre (lineshape::Line::phi).
fn phi(delta: f32) -> f32 {
    let x = delta * p.inv_hwhm;
    if (GAUSSIAN) {
        return exp(-LN_2 * x * x);
    }
    return 1.0 / (1.0 + x * x);
}

// The weight of platelet i for an order (setup::Optics::stimulated, absorbing).
fn weight(o: Order, i: u32) -> f32 {
    let n = counts[i];
    let g = f32(p.degeneracy);
    let nf = f32(n);
    if (o.kind == RADIATIVE) {
        return nf;
    }
    if (o.kind == STIMULATED) {
        if (n == 0u) {
            return 0.0;
        }
        let line = energy[i] - select(0.0, p.biexciton_shift_ev, n > 1u);
        return phi(o.energy - line) * min(nf, g) / g;
    }
    if (n >= p.degeneracy) {
        return 0.0;
    }
    let line = energy[i] - select(0.0, p.biexciton_shift_ev, n > 0u);
    return phi(o.energy - line) * max(1.0 - nf / g, 0.0);
}

// Move platelet i by one exciton for an order at the booking time, its next loss event
// drawn from `u`.
fn shift(o: Order, i: u32, u: f32) {
    var n = counts[i];
    if (o.kind == ABSORBED) {
        n += 1u;
    } else {
        n -= 1u;
    }
    counts[i] = n;
    let rate = loss_rates(n, p.k_nonrad, p.k_xx, CUBIC).x;
    next[i] = select(infinity(), p.t_now - log(u) / rate, rate > 0.0);
}

@compute @workgroup_size(64)
fn platelet_booking(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let k = wid.x + wid.y * groups.x;
    if (k >= p.count) {
        return;
    }
    if (lane == 0u) {
        atomicStore(&sum_moved, 0u);
        atomicStore(&sum_excitons, 0u);
        atomicStore(&sum_room, 0u);
        atomicStore(&earliest_bits, bitcast<u32>(infinity()));
    }
    let cell = cells[k];
    let base = cell * p.samples;
    let seed = vec2<u32>(p.seed_lo, p.seed_hi);
    // This invocation's stretch of the cell's platelets.
    let stretch = (p.samples + WORKGROUP - 1u) / WORKGROUP;
    let lo = min(lane * stretch, p.samples);
    let hi = min(lo + stretch, p.samples);
    // Philox blocks of the cell's stream used so far.
    var blocks = 0u;
    for (var o_index = first[k]; o_index < first[k + 1u]; o_index++) {
        let o = orders[o_index];
        if (lane == 0u) {
            remaining = o.count;
            unbooked = 0u;
            fruitless = 0u;
            atomicStore(&bound, 0u);
        }
        workgroupBarrier();
        // The weights' bound: 1 for the cross sections, the largest count (which the
        // moves only lower) for radiative decay.
        if (o.kind == RADIATIVE) {
            var most = 0u;
            for (var j = lo; j < hi; j++) {
                most = max(most, counts[base + j]);
            }
            atomicMax(&bound, most);
        }
        workgroupBarrier();
        let top = select(1.0, f32(atomicLoad(&bound)), o.kind == RADIATIVE);
        loop {
            if (workgroupUniformLoad(&remaining) == 0u) {
                break;
            }
            if (workgroupUniformLoad(&fruitless) >= max(p.samples, WORKGROUP)) {
                summed_weight_move(o, base, lo, hi, lane, blocks);
                blocks += 1u;
                continue;
            }
            // A round of proposals, this invocation's the lane-th: a block each.
            let words = philox4x32(
                vec4<u32>(blocks + lane, cell, (p.purpose << STEP_BITS) | p.step, p.point),
                seed,
            );
            let j = mul_hi(words.x, p.samples);
            let u_accept = (f32(words.y >> 8u) + 0.5) * (1.0 / 16777216.0);
            let u_next = (f32(words.z >> 8u) + 0.5) * (1.0 / 16777216.0);
            let yes = u_accept * top < weight(o, base + j);
            proposed[lane] = j;
            accepted[lane] = u32(yes);
            if (lane == 0u) {
                atomicStore(&cut, WORKGROUP);
                atomicStore(&made, 0u);
            }
            workgroupBarrier();
            // Accepted proposals before this one in the round, and whether one of them
            // fell on its platelet.
            var rank = 0u;
            var clash = false;
            for (var l = 0u; l < lane; l++) {
                let a = accepted[l] == 1u;
                rank += u32(a);
                clash = clash || (a && proposed[l] == j);
            }
            if (clash) {
                atomicMin(&cut, lane);
            }
            workgroupBarrier();
            let rest = workgroupUniformLoad(&remaining);
            if (yes && lane < atomicLoad(&cut) && rank < rest) {
                shift(o, base + j, u_next);
                atomicAdd(&made, 1u);
            }
            workgroupBarrier();
            if (lane == 0u) {
                let count = atomicLoad(&made);
                remaining = rest - count;
                atomicAdd(&sum_moved, count);
                // A round without a move had no clash: all its proposals failed.
                fruitless = select(fruitless + WORKGROUP, 0u, count > 0u);
            }
            blocks += WORKGROUP;
        }
        if (lane == 0u) {
            left[o_index] = unbooked;
        }
    }

    // What the cell holds now.
    workgroupBarrier();
    var excitons = 0u;
    var room = 0u;
    var earliest = infinity();
    for (var j = lo; j < hi; j++) {
        let n = counts[base + j];
        excitons += n;
        room += select(0u, p.degeneracy - n, n < p.degeneracy);
        earliest = min(earliest, next[base + j]);
    }
    atomicAdd(&sum_excitons, excitons);
    atomicAdd(&sum_room, room);
    atomicMin(&earliest_bits, bitcast<u32>(earliest));
    workgroupBarrier();
    if (lane == 0u) {
        booked[k] = CellBooked(
            atomicLoad(&sum_excitons),
            atomicLoad(&sum_room),
            bitcast<f32>(atomicLoad(&earliest_bits)),
            atomicLoad(&sum_moved),
        );
    }
}

// One move of order `o` on a platelet drawn from the cell's summed weights (each
// invocation sums its stretch [lo, hi) of the cell starting at `base`), with block
// `block` of the cell's stream; when they sum to zero the rest of the order is left
// unbooked.
fn summed_weight_move(o: Order, base: u32, lo: u32, hi: u32, lane: u32, block: u32) {
    var sum = 0.0;
    for (var j = lo; j < hi; j++) {
        sum += weight(o, base + j);
    }
    partial[lane] = sum;
    let words = philox4x32(
        vec4<u32>(block, base / p.samples, (p.purpose << STEP_BITS) | p.step, p.point),
        vec2<u32>(p.seed_lo, p.seed_hi),
    );
    let u_draw = (f32(words.x >> 8u) + 0.5) * (1.0 / 16777216.0);
    let u_next = (f32(words.y >> 8u) + 0.5) * (1.0 / 16777216.0);
    workgroupBarrier();
    if (lane == 0u) {
        var total = 0.0;
        for (var l = 0u; l < WORKGROUP; l++) {
            total += partial[l];
        }
        // The stretch whose share of the total holds the draw (the last with any
        // weight if rounding carries it past the end), and where in it.
        var x = u_draw * total;
        var chosen = WORKGROUP;
        for (var l = 0u; l < WORKGROUP; l++) {
            if (partial[l] > 0.0) {
                chosen = l;
                if (x < partial[l]) {
                    break;
                }
                x -= partial[l];
            }
        }
        owner = chosen;
        within = x;
        fruitless = 0u;
        if (chosen == WORKGROUP) {
            unbooked = remaining;
            remaining = 0u;
        } else {
            remaining -= 1u;
            atomicAdd(&sum_moved, 1u);
        }
    }
    workgroupBarrier();
    if (lane == owner) {
        // The platelet whose share of the stretch holds the draw (the last with any
        // weight if rounding carries it past the end).
        var x = within;
        var chosen = lo;
        for (var j = lo; j < hi; j++) {
            let w = weight(o, base + j);
            if (w > 0.0) {
                chosen = j;
                if (x < w) {
                    break;
                }
                x -= w;
            }
        }
        shift(o, base + chosen, u_next);
    }
    workgroupBarrier();
}
