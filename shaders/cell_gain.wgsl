// The cells' gain spectra from their platelets' exciton counts (src/ase/platelets.rs,
// CellGain): at every spectral bin, the stimulated-emission and absorption
// coefficients, cm⁻¹, summed over the cell's sampled platelets. One workgroup per
// cell with changes replaces the contributions of the platelets whose counts changed,
// in a fixed order, so the result is the same run to run; recomputing the spectra is
// the same with every platelet coming from NONE (no contribution), onto spectra set to
// zero. Only the cells with changes are dispatched: lavapipe spends microseconds on a
// workgroup even when it has nothing to do.
//
// The changes come either from the host, which lists them (platelets kept on the
// host), or, with FROM_DEVICE, from the counts of the platelets kept on the device:
// each cell's platelets, in order, whose count differs from the one the spectra hold
// for it (`held`), which the workgroup then brings up to date.
//
// Energies are offsets from the mean transition energy, eV, so that the line offsets
// keep single precision.
// The structs GainParams and CountChange are emitted from src/gpu/shared/structs.rs.

// The homogeneous line shape, fixed when the pipeline is built (a branch on a
// parameter would run both shapes on a SIMD device): Gaussian, else Lorentzian.
override GAUSSIAN: bool = false;
// Where the changes come from: the counts on the device, else the host's list.
override FROM_DEVICE: bool = false;

@group(0) @binding(0) var<uniform> p: GainParams;
// Where each cell's changes begin: cell c's are [first[c], first[c + 1]) less
// first[first_cell].
@group(0) @binding(1) var<storage, read> first: array<u32>;
// Photon energy (offset) at each bin centre.
@group(0) @binding(2) var<storage, read> bin_energy: array<f32>;
// cells × bins, cm⁻¹.
@group(0) @binding(3) var<storage, read_write> stim: array<f32>;
@group(0) @binding(4) var<storage, read_write> absorb: array<f32>;
// The cells of this dispatch, a workgroup each.
@group(0) @binding(5) var<storage, read> cells: array<u32>;
// FROM_DEVICE: every platelet's count and transition energy (offset), cell by cell,
// and the count the spectra hold for it (its line count, NONE: none).
@group(0) @binding(6) var<storage, read> counts: array<u32>;
@group(0) @binding(7) var<storage, read> energy: array<f32>;
@group(0) @binding(8) var<storage, read_write> held: array<u32>;
// Else: the changes of this dispatch's cells, cell by cell, CHANGES_PER_ROW a row: a
// CountChange a texel (energy bits, counts). Every invocation of a workgroup reads
// every change of its cell; lavapipe fetches texels for all SIMD lanes at once, where
// it loads a storage buffer's words one lane at a time.
@group(0) @binding(9) var changes: texture_2d<u32>;

// CHANGES_PER_ROW (src/gpu/shared/constants.rs): changes a row of `changes` holds.
// The host's change j of this dispatch.
fn change(j: u32) -> CountChange {
    let t = textureLoad(changes, vec2<i32>(i32(j % CHANGES_PER_ROW), i32(j / CHANGES_PER_ROW)), 0);
    return CountChange(bitcast<f32>(t.x), t.y);
}

// Bin i's sums of this dispatch (scaled to cm⁻¹): set, or added to what it holds.
fn put_bin(i: u32, s: f32, a: f32) {
    if (p.from_zero == 1u) {
        stim[i] = p.scale * s;
        absorb[i] = p.scale * a;
    } else {
        stim[i] += p.scale * s;
        absorb[i] += p.scale * a;
    }
}

// LANES (src/gpu/shared/constants.rs) invocations per workgroup; each takes 8 neighbouring bins,
// so that a change, loaded once, serves them all.

fn lines(e_i: f32, n: u32) -> vec4<f32> {
    return platelet_lines(e_i, n, p.degeneracy, p.biexciton_shift_ev);
}

fn phi(e: vec4<f32>, line: f32) -> vec4<f32> {
    return line_shape4(e, line, p.inv_hwhm, GAUSSIAN);
}

// A lane's sums over changes at its 8 bins (two vec4s of each).
struct Sums {
    stim_lo: vec4<f32>,
    stim_hi: vec4<f32>,
    abs_lo: vec4<f32>,
    abs_hi: vec4<f32>,
}

// The photon energies of bins b0..b0 + 7 (the last bin's past the end).
fn energies_at(b0: u32) -> array<vec4<f32>, 2> {
    let last = p.bins - 1u;
    return array<vec4<f32>, 2>(
        vec4<f32>(bin_energy[min(b0, last)], bin_energy[min(b0 + 1u, last)],
            bin_energy[min(b0 + 2u, last)], bin_energy[min(b0 + 3u, last)]),
        vec4<f32>(bin_energy[min(b0 + 4u, last)], bin_energy[min(b0 + 5u, last)],
            bin_energy[min(b0 + 6u, last)], bin_energy[min(b0 + 7u, last)]),
    );
}

// Add change c's contribution at energies e to the sums.
fn add_change(sums: ptr<function, Sums>, c: CountChange, e: array<vec4<f32>, 2>) {
    let before = lines(c.energy, c.counts & 0xffffu);
    let after = lines(c.energy, c.counts >> 16u);
    (*sums).stim_lo += after.z * phi(e[0], after.x) - before.z * phi(e[0], before.x);
    (*sums).stim_hi += after.z * phi(e[1], after.x) - before.z * phi(e[1], before.x);
    (*sums).abs_lo += after.w * phi(e[0], after.y) - before.w * phi(e[0], before.y);
    (*sums).abs_hi += after.w * phi(e[1], after.y) - before.w * phi(e[1], before.y);
}

// Write a lane's sums to bins b0..b0 + 7 of the cell, bin by bin, not through an
// array indexed by a loop counter, which lavapipe would also move one lane at a time.
fn put_sums(cell: u32, b0: u32, s: Sums) {
    if (b0 >= p.bins) {
        return;
    }
    let i = cell * p.bins + b0;
    let n = p.bins - b0;
    put_bin(i, s.stim_lo.x, s.abs_lo.x);
    if (n > 1u) { put_bin(i + 1u, s.stim_lo.y, s.abs_lo.y); }
    if (n > 2u) { put_bin(i + 2u, s.stim_lo.z, s.abs_lo.z); }
    if (n > 3u) { put_bin(i + 3u, s.stim_lo.w, s.abs_lo.w); }
    if (n > 4u) { put_bin(i + 4u, s.stim_hi.x, s.abs_hi.x); }
    if (n > 5u) { put_bin(i + 5u, s.stim_hi.y, s.abs_hi.y); }
    if (n > 6u) { put_bin(i + 6u, s.stim_hi.z, s.abs_hi.z); }
    if (n > 7u) { put_bin(i + 7u, s.stim_hi.w, s.abs_hi.w); }
}

// One workgroup per listed cell; each invocation takes 8 neighbouring bins, as two
// vec4s.
@compute @workgroup_size(LANES)
fn cell_gain(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let k = group.x + group.y * groups.x;
    if (k >= p.count) {
        return;
    }
    let cell = cells[k];
    if (FROM_DEVICE) {
        follow_cell(cell, lane);
        return;
    }
    let start = first[cell] - first[p.first_cell];
    let end = first[cell + 1u] - first[p.first_cell];
    for (var b0 = lane * 8u; b0 < p.bins; b0 += LANES * 8u) {
        let e = energies_at(b0);
        var sums = Sums(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var j = start; j < end; j++) {
            add_change(&sums, change(j), e);
        }
        put_sums(cell, b0, sums);
    }
}

// FROM_DEVICE: the changes of a cell's platelets, listed CHUNK platelets at a time, in
// platelet order, so that a SIMD device (which runs a branch taken by no lane as well)
// spends its time on the platelets that changed, not on all of them.
const CHUNK: u32 = 8u * LANES;
var<workgroup> listed: array<CountChange, CHUNK>;
var<workgroup> listed_count: u32;
// Platelet j's change, from the count the spectra hold to its line count now
// (setup::Optics::line_count).
fn device_change(j: u32) -> CountChange {
    let now = min(counts[j], max(p.degeneracy, 2u));
    return CountChange(energy[j], held[j] | (now << 16u));
}

fn changed(c: CountChange) -> bool {
    return (c.counts & 0xffffu) != (c.counts >> 16u);
}

// List the changes among platelets [c0, min(c0 + CHUNK, end)) in `listed`, in order.
fn list_chunk(c0: u32, end: u32, lane: u32) -> u32 {
    let j0 = c0 + 8u * lane;
    var mine = 0u;
    for (var j = j0; j < min(j0 + 8u, end); j++) {
        mine += u32(changed(device_change(j)));
    }
    // Each lane's changed platelets, then their prefix sums (shared/lanes.wgsl).
    workgroupBarrier();
    lane_sums[lane] = mine;
    scan_lane_sums(lane);
    var at = lane_sums[lane] - mine;
    for (var j = j0; j < min(j0 + 8u, end); j++) {
        let c = device_change(j);
        if (changed(c)) {
            listed[at] = c;
            at++;
        }
    }
    if (lane == LANES - 1u) {
        listed_count = lane_sums[lane];
    }
    return workgroupUniformLoad(&listed_count);
}

// Bring the spectra of `cell` up to its platelets' counts on the device, and note the
// counts they now hold.
fn follow_cell(cell: u32, lane: u32) {
    let start = cell * p.samples;
    let end = start + p.samples;
    // Every lane goes through every group of bins, so that all meet the barriers.
    for (var g0 = 0u; g0 < p.bins; g0 += LANES * 8u) {
        let b0 = g0 + lane * 8u;
        let e = energies_at(b0);
        var sums = Sums(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var c0 = start; c0 < end; c0 += CHUNK) {
            let n = list_chunk(c0, end, lane);
            for (var i = 0u; i < n; i++) {
                add_change(&sums, listed[i], e);
            }
        }
        put_sums(cell, b0, sums);
    }
    // Every lane has read the counts held before any is overwritten.
    workgroupBarrier();
    for (var j = start + lane; j < end; j += LANES) {
        held[j] = min(counts[j], max(p.degeneracy, 2u));
    }
}
