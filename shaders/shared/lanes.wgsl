// Inclusive prefix sums over the lanes of a workgroup of up to 64 (a power of two),
// for the kernels that take things in lane order: each lane puts its number in
// lane_sums[lane], then every lane calls scan_lane_sums (all of them: it holds
// barriers), after which lane_sums[lane] is the sum over lanes 0..=lane.

var<workgroup> lane_sums: array<u32, 64>;

// One step of the prefix sums (distance d).
fn lane_sum_step(lane: u32, d: u32) {
    let add = select(0u, lane_sums[max(lane, d) - d], lane >= d);
    workgroupBarrier();
    lane_sums[lane] += add;
    workgroupBarrier();
}

// Written out, not a loop (lavapipe counts every loop pass against its limit); the
// steps past the workgroup's size add nothing.
fn scan_lane_sums(lane: u32) {
    workgroupBarrier();
    lane_sum_step(lane, 1u);
    lane_sum_step(lane, 2u);
    lane_sum_step(lane, 4u);
    lane_sum_step(lane, 8u);
    lane_sum_step(lane, 16u);
    lane_sum_step(lane, 32u);
}
