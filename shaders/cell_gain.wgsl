// The cells' gain spectra from their platelets' exciton counts (src/ase/platelets.rs,
// CellGain): at every spectral bin, the stimulated-emission and absorption
// coefficients, cm⁻¹, summed over the cell's sampled platelets. One workgroup per
// cell with changes replaces the contributions of the platelets whose counts changed
// during a step, in the order the host listed them, so the result is the same run to
// run; recomputing the spectra is the same with every platelet listed, each coming
// from NONE (no contribution), onto spectra set to zero. Only the cells with changes
// are dispatched: lavapipe spends microseconds on a workgroup even when it has
// nothing to do.
//
// Energies are offsets from the mean transition energy, eV, so that the line offsets
// keep single precision.

// The homogeneous line shape, fixed when the pipeline is built (a branch on a
// parameter would run both shapes on a SIMD device): Gaussian, else Lorentzian.
override GAUSSIAN: bool = false;
// A count that stands for no platelet at all.
const NONE: u32 = 0xffffu;
const LN_2: f32 = 0.6931471805599453;

struct GainParams {
    // The first cell of this dispatch (its changes are the first of the texture), and
    // how many cells it has (listed in `cells`).
    first_cell: u32,
    count: u32,
    bins: u32,
    degeneracy: u32,
    // 1: start from zero spectra (recomputing), 0: add to them.
    from_zero: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    inv_hwhm: f32,
    biexciton_shift_ev: f32,
    // ρσ₀/N_cell, cm⁻¹: one sampled platelet's share of its cell's gain per unit σ/σ₀.
    scale: f32,
    _pad3: f32,
}

// A platelet (its transition energy, offset) whose count went from `counts & 0xffff`
// to `counts >> 16` during the step (each at most max(g_d, 2): setup::Optics::line_count).
struct CountChange {
    energy: f32,
    counts: u32,
}

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
// The changes of this dispatch's cells, cell by cell, CHANGES_PER_ROW a row: a
// CountChange a texel (energy bits, counts). Every invocation of a workgroup reads
// every change of its cell; lavapipe fetches texels for all SIMD lanes at once, where
// it loads a storage buffer's words one lane at a time.
@group(0) @binding(6) var changes: texture_2d<u32>;

const CHANGES_PER_ROW: u32 = 4096u;

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

// Invocations per workgroup; each takes 8 neighbouring bins, so that a change, loaded
// once, serves them all.
const LANES: u32 = 32u;

// The lines of a platelet at `e_i` holding n excitons, eV (emission, absorption), and
// their σ/σ₀ at the line centre (setup::Optics): emission min(n, g)/g on the
// biexciton-shifted line from n = 2, absorption max(1 − n/g, 0) shifted from n = 1;
// none for NONE.
fn lines(e_i: f32, n: u32) -> vec4<f32> {
    let g = f32(p.degeneracy);
    let nf = f32(n);
    let em = e_i - select(0.0, p.biexciton_shift_ev, n > 1u);
    let ab = e_i - select(0.0, p.biexciton_shift_ev, n > 0u);
    let strength = select(
        vec2<f32>(min(nf, g) / g, max(1.0 - nf / g, 0.0)),
        vec2<f32>(0.0),
        n == NONE,
    );
    return vec4<f32>(em, ab, strength);
}

// φ at photon energies `e` of a line at `line`: the homogeneous line shape, 1 at
// its centre (lineshape::Line::phi).
fn phi(e: vec4<f32>, line: f32) -> vec4<f32> {
    let x = (e - vec4<f32>(line)) * p.inv_hwhm;
    if (GAUSSIAN) {
        return exp(-LN_2 * x * x);
    }
    return 1.0 / (1.0 + x * x);
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
    let start = first[cell] - first[p.first_cell];
    let end = first[cell + 1u] - first[p.first_cell];
    let last = p.bins - 1u;
    for (var b0 = lane * 8u; b0 < p.bins; b0 += LANES * 8u) {
        let lo = vec4<f32>(bin_energy[min(b0, last)], bin_energy[min(b0 + 1u, last)],
            bin_energy[min(b0 + 2u, last)], bin_energy[min(b0 + 3u, last)]);
        let hi = vec4<f32>(bin_energy[min(b0 + 4u, last)], bin_energy[min(b0 + 5u, last)],
            bin_energy[min(b0 + 6u, last)], bin_energy[min(b0 + 7u, last)]);
        var stim_lo = vec4<f32>(0.0);
        var stim_hi = vec4<f32>(0.0);
        var abs_lo = vec4<f32>(0.0);
        var abs_hi = vec4<f32>(0.0);
        for (var j = start; j < end; j++) {
            let c = change(j);
            let before = lines(c.energy, c.counts & 0xffffu);
            let after = lines(c.energy, c.counts >> 16u);
            stim_lo += after.z * phi(lo, after.x) - before.z * phi(lo, before.x);
            stim_hi += after.z * phi(hi, after.x) - before.z * phi(hi, before.x);
            abs_lo += after.w * phi(lo, after.y) - before.w * phi(lo, before.y);
            abs_hi += after.w * phi(hi, after.y) - before.w * phi(hi, before.y);
        }
        // Written bin by bin, not through an array indexed by a loop counter, which
        // lavapipe would also move one lane at a time.
        let i = cell * p.bins + b0;
        let n = p.bins - b0;
        put_bin(i, stim_lo.x, abs_lo.x);
        if (n > 1u) { put_bin(i + 1u, stim_lo.y, abs_lo.y); }
        if (n > 2u) { put_bin(i + 2u, stim_lo.z, abs_lo.z); }
        if (n > 3u) { put_bin(i + 3u, stim_lo.w, abs_lo.w); }
        if (n > 4u) { put_bin(i + 4u, stim_hi.x, abs_hi.x); }
        if (n > 5u) { put_bin(i + 5u, stim_hi.y, abs_hi.y); }
        if (n > 6u) { put_bin(i + 6u, stim_hi.z, abs_hi.z); }
        if (n > 7u) { put_bin(i + 7u, stim_hi.w, abs_hi.w); }
    }
}
