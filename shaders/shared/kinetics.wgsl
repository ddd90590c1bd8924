// Exciton kinetics of a platelet (src/ase/kinetics.rs), shared by the platelet kernels.

// The loss rates at n excitons, ps⁻¹: (non-radiative + Auger, non-radiative), with
// non-radiative n·k_nr and Auger k_XX·n²(n−1)/4 when `cubic`, else k_XX·n(n−1)/2.
fn loss_rates(n: u32, k_nonrad: f32, k_xx: f32, cubic: bool) -> vec2<f32> {
    let nf = f32(n);
    let auger = select(k_xx * nf * (nf - 1.0) * 0.5, k_xx * nf * nf * (nf - 1.0) * 0.25, cubic);
    let nonrad = nf * k_nonrad;
    return vec2<f32>(nonrad + auger, nonrad);
}
