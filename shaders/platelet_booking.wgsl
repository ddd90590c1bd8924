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
// platelet chosen uniformly, accepted with probability weight/bound. Here the bound is
// the largest weight any of the cell's platelets can reach during the order (far
// tighter than the host's σ/σ₀ ≤ 1 at photon energies off the platelets' lines), and
// the 64 invocations of a workgroup make 64 proposals at once, taken in invocation
// order as if made one after another: every accepted proposal is a move, until the
// order is done or a proposal falls on a platelet an earlier accepted proposal of the
// round may have moved (its weight was read before that move). That proposal opens
// the next round, its weight read anew; the rest of the round is dropped unused. So
// each move is drawn exactly as the host draws it, from other random numbers. Where
// proposals keep failing, a move is drawn from the cell's summed weights instead, as
// the host falls back on its Fenwick tree; when no platelet can take a move the rest
// of the order is left unbooked.
//
// lavapipe runs an invocation's loops at most 65535 times in all, and then leaves
// them without a word. A workgroup therefore counts the loop passes
// it has made and stops before that many, saying where (CellBooked.stopped); the host
// books the rest in a further dispatch (BookingParams.part), on other blocks of the
// cell's stream. The lanes' prefix sums are written out step by step, not as loops.
//
// One workgroup per listed cell; after its orders it sums what the cell holds.
// The structs BookingParams, GpuOrder and CellBooked are emitted from src/gpu/shared/structs.rs.

override CUBIC: bool = false;
override GAUSSIAN: bool = false;
// Loop passes a workgroup makes before it stops: lavapipe leaves every loop once an
// invocation's loops have counted 65535 (all its loops together; a pass can count
// twice). Lower in the tests of stopping.
override PASSES: u32 = LOOP_PASSES;
// Slots of the table of platelets accepted in a round (platelet index modulo SLOTS).
const SLOTS: u32 = 1024u;
const NO_LANE: u32 = 0xffffffffu;
// From src/gpu/shared/constants.rs: WORKGROUP, LOOP_PASSES, PART_BLOCKS (blocks of the cell's
// stream a dispatch can use: PASSES rounds of 64) and the order kinds ORDER_*.

@group(0) @binding(0) var<uniform> p: BookingParams;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> next: array<f32>;
// Every platelet's transition energy, offset from the mean, eV.
@group(0) @binding(3) var<storage, read> energy: array<f32>;
@group(0) @binding(4) var<storage, read> cells: array<u32>;
// The orders of the k-th listed cell are orders[first[k]..first[k + 1]], booked in
// that order.
@group(0) @binding(5) var<storage, read> first: array<u32>;
@group(0) @binding(6) var<storage, read> orders: array<GpuOrder>;
// For each order, the excitons it could not move.
@group(0) @binding(7) var<storage, read_write> left: array<u32>;
@group(0) @binding(8) var<storage, read_write> booked: array<CellBooked>;

// Which lanes' accepted proposals fell on platelets of each slot: the lowest.
var<workgroup> slots: array<atomic<u32>, SLOTS>;
// The first lane whose proposal fell on a slot an earlier accepted proposal holds.
var<workgroup> cut: atomic<u32>;
// Accepted proposals before the cut.
var<workgroup> accepted: atomic<u32>;
var<workgroup> accepted_now: u32;
// A proposal carried into the next round: platelet, and its two uniforms' bits.
var<workgroup> carry: vec3<u32>;
var<workgroup> carried: u32;
var<workgroup> remaining: u32;
// Excitons of the order that could not be moved.
var<workgroup> unbooked: u32;
// Excitons moved by the cell's orders.
var<workgroup> sum_moved: u32;
// The bits of the order's bound on the weights.
var<workgroup> bound: atomic<u32>;
// Proposals since the last move.
var<workgroup> fruitless: u32;
// Loop passes made so far, and 1 + the order the workgroup stopped in (0: none).
var<workgroup> passes: u32;
var<workgroup> stopped: u32;
// Lane prefix sums of the lanes' summed weights (those of accepted proposals are in
// lane_sums, shared/lanes.wgsl).
var<workgroup> scan_f: array<f32, WORKGROUP>;
// The lane whose stretch holds a summed-weight draw, and 1 + the last lane with any
// weight.
var<workgroup> owner: atomic<u32>;
var<workgroup> last_positive: atomic<u32>;
var<workgroup> sum_excitons: atomic<u32>;
var<workgroup> sum_room: atomic<u32>;
var<workgroup> earliest_bits: atomic<u32>;

// One step of the lanes' inclusive prefix sums of scan_f (distance d).
fn scan_step_f(lane: u32, d: u32) {
    let add = select(0.0, scan_f[max(lane, d) - d], lane >= d);
    workgroupBarrier();
    scan_f[lane] += add;
    workgroupBarrier();
}

// Inclusive prefix sums over the 64 lanes of scan_f, written out (no loop).
fn scan_lanes_f(lane: u32) {
    workgroupBarrier();
    scan_step_f(lane, 1u);
    scan_step_f(lane, 2u);
    scan_step_f(lane, 4u);
    scan_step_f(lane, 8u);
    scan_step_f(lane, 16u);
    scan_step_f(lane, 32u);
}

fn uniform_of(bits: u32) -> f32 {
    return (f32(bits >> 8u) + 0.5) * (1.0 / 16777216.0);
}

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
fn weight(o: GpuOrder, i: u32) -> f32 {
    return weight_at(o, i, counts[i]);
}

// The weight platelet i would have for an order holding n excitons.
fn weight_at(o: GpuOrder, i: u32, n: u32) -> f32 {
    let g = f32(p.degeneracy);
    let nf = f32(n);
    if (o.kind == ORDER_RADIATIVE) {
        return nf;
    }
    if (o.kind == ORDER_STIMULATED) {
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

// The largest weight platelet i can have during an order, which moves its count only
// one way: over the counts from its own down to 1 (stimulated emission; every count
// from max(g_d, 2) up gives the same lines) or up to g_d − 1 (absorption); its count
// for radiative decay.
fn reachable_bound(o: GpuOrder, i: u32) -> f32 {
    let n = counts[i];
    if (o.kind == ORDER_RADIATIVE) {
        return f32(n);
    }
    var b = 0.0;
    if (o.kind == ORDER_STIMULATED) {
        for (var m = 1u; m <= min(n, max(p.degeneracy, 2u)); m++) {
            b = max(b, weight_at(o, i, m));
        }
    } else {
        for (var m = n; m < p.degeneracy; m++) {
            b = max(b, weight_at(o, i, m));
        }
    }
    return b;
}

// Move platelet i by one exciton for an order at the booking time, its next loss event
// drawn from `u`.
fn shift(o: GpuOrder, i: u32, u: f32) {
    var n = counts[i];
    if (o.kind == ORDER_ABSORBED) {
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
    for (var slot = lane; slot < SLOTS; slot += WORKGROUP) {
        atomicStore(&slots[slot], NO_LANE);
    }
    if (lane == 0u) {
        sum_moved = 0u;
        // The slots' setting and the final sums.
        passes = SLOTS / WORKGROUP + (p.samples + WORKGROUP - 1u) / WORKGROUP;
        stopped = 0u;
        atomicStore(&sum_excitons, 0u);
        atomicStore(&sum_room, 0u);
        atomicStore(&earliest_bits, bitcast<u32>(infinity()));
    }
    let cell = cells[k];
    let base = cell * p.samples;
    let seed = vec2<u32>(p.seed_lo, p.seed_hi);
    let counter = vec3<u32>(cell, (p.purpose << STEP_BITS) | p.step, p.point);
    // This invocation's stretch of the cell's platelets.
    let stretch = (p.samples + WORKGROUP - 1u) / WORKGROUP;
    let lo = min(lane * stretch, p.samples);
    let hi = min(lo + stretch, p.samples);
    // Loop passes of an order's bound (a platelet's reachable counts each) and of a
    // summed-weight move.
    let bound_cost = stretch * (1u + max(p.degeneracy, 2u));
    let summed_cost = 2u * stretch + 1u;
    // Blocks of the cell's stream used so far.
    var blocks = p.part * PART_BLOCKS;
    for (var o_index = first[k]; o_index < first[k + 1u]; o_index++) {
        let o = orders[o_index];
        if (lane == 0u) {
            remaining = o.count;
            unbooked = 0u;
            fruitless = 0u;
            carried = 0u;
            atomicStore(&bound, 0u);
            if (passes + bound_cost > PASSES) {
                // Not begun.
                stopped = 1u + o_index - first[k];
                left[o_index] = o.count;
            }
            passes += bound_cost;
        }
        if (workgroupUniformLoad(&stopped) != 0u) {
            break;
        }
        // The bound of the weights: the largest any platelet can reach during the
        // order (non-negative numbers order as their bits do).
        var most = 0.0;
        for (var j = lo; j < hi; j++) {
            most = max(most, reachable_bound(o, base + j));
        }
        atomicMax(&bound, bitcast<u32>(most));
        workgroupBarrier();
        let top = bitcast<f32>(atomicLoad(&bound));
        if (lane == 0u && top == 0.0) {
            // No platelet can take a move.
            unbooked = remaining;
            remaining = 0u;
        }
        loop {
            if (workgroupUniformLoad(&remaining) == 0u) {
                break;
            }
            if (lane == 0u && passes + summed_cost > PASSES) {
                stopped = 1u + o_index - first[k];
            }
            if (workgroupUniformLoad(&stopped) != 0u) {
                break;
            }
            if (workgroupUniformLoad(&fruitless) >= max(p.samples, WORKGROUP)) {
                summed_weight_move(o, base, lo, hi, lane, blocks, summed_cost);
                blocks += 1u;
                continue;
            }
            // A round of proposals, this invocation's the lane-th: a block each, the
            // first lane's carried over from the last round if one was.
            let words = philox4x32(vec4<u32>(blocks + lane, counter), seed);
            var pick = vec3<u32>(mul_hi(words.x, p.samples), words.y, words.z);
            if (lane == 0u && carried == 1u) {
                pick = carry;
            }
            let j = pick.x;
            let slot = j % SLOTS;
            let yes = uniform_of(pick.y) * top < weight(o, base + j);
            if (yes) {
                atomicMin(&slots[slot], lane);
            }
            if (lane == 0u) {
                atomicStore(&cut, WORKGROUP);
                atomicStore(&accepted, 0u);
            }
            workgroupBarrier();
            // An earlier accepted proposal on a platelet of the same slot may have
            // moved this one's.
            if (atomicLoad(&slots[slot]) < lane) {
                atomicMin(&cut, lane);
            }
            workgroupBarrier();
            let cut_at = atomicLoad(&cut);
            let valid = yes && lane < cut_at;
            if (valid) {
                atomicAdd(&accepted, 1u);
            }
            workgroupBarrier();
            if (lane == 0u) {
                accepted_now = atomicLoad(&accepted);
            }
            let rest = workgroupUniformLoad(&remaining);
            var moves = valid;
            if (workgroupUniformLoad(&accepted_now) > rest) {
                // The order ends within the round: the first `rest` accepted move.
                lane_sums[lane] = u32(valid);
                scan_lane_sums(lane);
                moves = valid && lane_sums[lane] <= rest;
            } else if (lane == cut_at) {
                // The order goes on, this proposal first.
                carry = pick;
                carried = 1u;
            }
            if (moves) {
                shift(o, base + j, uniform_of(pick.z));
            }
            workgroupBarrier();
            storageBarrier();
            if (yes) {
                atomicStore(&slots[slot], NO_LANE);
            }
            if (lane == 0u) {
                let made = min(accepted_now, rest);
                remaining = rest - made;
                sum_moved += made;
                carried = u32(cut_at < WORKGROUP && made < rest);
                // A round without a move had no cut: all its proposals failed.
                fruitless = select(fruitless + WORKGROUP, 0u, made > 0u);
                passes += 1u;
            }
            blocks += WORKGROUP;
        }
        if (lane == 0u) {
            left[o_index] = select(unbooked, remaining, stopped != 0u);
        }
        if (workgroupUniformLoad(&stopped) != 0u) {
            break;
        }
    }

    // What the cell holds now.
    workgroupBarrier();
    storageBarrier();
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
            sum_moved,
            stopped,
            0u,
            0u,
            0u,
        );
    }
}

// One move of order `o` on a platelet drawn from the cell's summed weights (each
// invocation sums its stretch [lo, hi) of the cell starting at `base`), with block
// `block` of the cell's stream; when they sum to zero the rest of the order is left
// unbooked.
fn summed_weight_move(o: GpuOrder, base: u32, lo: u32, hi: u32, lane: u32, block: u32, cost: u32) {
    var sum = 0.0;
    for (var j = lo; j < hi; j++) {
        sum += weight(o, base + j);
    }
    scan_f[lane] = sum;
    if (lane == 0u) {
        atomicStore(&owner, WORKGROUP);
        atomicStore(&last_positive, 0u);
    }
    scan_lanes_f(lane);
    let words = philox4x32(
        vec4<u32>(block, base / p.samples, (p.purpose << STEP_BITS) | p.step, p.point),
        vec2<u32>(p.seed_lo, p.seed_hi),
    );
    // The stretch whose share of the total holds the draw (the last with any weight
    // if rounding carries the draw past the end).
    let total = scan_f[WORKGROUP - 1u];
    let x = uniform_of(words.x) * total;
    let before = scan_f[lane] - sum;
    if (sum > 0.0) {
        if (x >= before && x < scan_f[lane]) {
            atomicMin(&owner, lane);
        }
        atomicMax(&last_positive, lane + 1u);
    }
    workgroupBarrier();
    var chosen = atomicLoad(&owner);
    let last = atomicLoad(&last_positive);
    if (chosen == WORKGROUP && last > 0u) {
        chosen = last - 1u;
    }
    if (lane == chosen) {
        // The platelet whose share of the stretch holds the draw (the last with any
        // weight if rounding carries it past the end).
        var y = x - before;
        var pick = lo;
        for (var j = lo; j < hi; j++) {
            let w = weight(o, base + j);
            if (w > 0.0) {
                pick = j;
                if (y < w) {
                    break;
                }
                y -= w;
            }
        }
        shift(o, base + pick, uniform_of(words.y));
    }
    if (lane == 0u) {
        fruitless = 0u;
        carried = 0u;
        passes += cost;
        if (total > 0.0) {
            remaining -= 1u;
            sum_moved += 1u;
        } else {
            unbooked = remaining;
            remaining = 0u;
        }
    }
    workgroupBarrier();
    storageBarrier();
}
