// The optical lines of a sampled platelet (src/ase/setup.rs, Optics, and
// src/ase/lineshape.rs), shared by the kernels that weigh or sum them.

const LN_2: f32 = 0.6931471805599453;
// NONE (src/gpu/shared/constants.rs): a count that stands for no platelet at all.

// The lines of a platelet at `e_i` holding n excitons, eV (emission, absorption), and
// their σ/σ₀ at the line centre, with degeneracy g and biexciton shift `shift`:
// emission min(n, g)/g on the biexciton-shifted line from n = 2, absorption
// max(1 − n/g, 0) shifted from n = 1; none for NONE.
fn platelet_lines(e_i: f32, n: u32, g: u32, shift: f32) -> vec4<f32> {
    let gf = f32(g);
    let nf = f32(n);
    let em = e_i - select(0.0, shift, n > 1u);
    let ab = e_i - select(0.0, shift, n > 0u);
    let strength = select(
        vec2<f32>(min(nf, gf) / gf, max(1.0 - nf / gf, 0.0)),
        vec2<f32>(0.0),
        n == NONE,
    );
    return vec4<f32>(em, ab, strength);
}

// φ at photon energies `e` of a line at `line` with half width 1/`inv_hwhm`: the
// homogeneous line shape, 1 at its centre (lineshape::Line::phi), Gaussian when
// `gaussian` (pass an override constant: a SIMD device runs both branches of a
// parameter), else Lorentzian.
fn line_shape4(e: vec4<f32>, line: f32, inv_hwhm: f32, gaussian: bool) -> vec4<f32> {
    let x = (e - vec4<f32>(line)) * inv_hwhm;
    if (gaussian) {
        return exp(-LN_2 * x * x);
    }
    return 1.0 / (1.0 + x * x);
}
