//! The WGSL sources of the kernels: each kernel file prefixed with the constants shared
//! with Rust (`gpu::shared`) and the shared files, the same composition `build.rs`
//! validates.

/// The shared files of `shaders/shared/`, in name order.
const SHARED: [&str; 6] = [
    include_str!("../../shaders/shared/kinetics.wgsl"),
    include_str!("../../shaders/shared/lanes.wgsl"),
    include_str!("../../shaders/shared/lines.wgsl"),
    include_str!("../../shaders/shared/mover.wgsl"),
    include_str!("../../shaders/shared/optics.wgsl"),
    include_str!("../../shaders/shared/philox.wgsl"),
];

/// Kernel files of `shaders/` by name.
const KERNELS: [(&str, &str); 9] = [
    (
        "ase_transport",
        include_str!("../../shaders/ase_transport.wgsl"),
    ),
    ("cell_gain", include_str!("../../shaders/cell_gain.wgsl")),
    (
        "platelet_booking",
        include_str!("../../shaders/platelet_booking.wgsl"),
    ),
    (
        "platelet_decay",
        include_str!("../../shaders/platelet_decay.wgsl"),
    ),
    (
        "random_walk",
        include_str!("../../shaders/random_walk.wgsl"),
    ),
    ("rng_check", include_str!("../../shaders/rng_check.wgsl")),
    (
        "spontaneous_emission",
        include_str!("../../shaders/spontaneous_emission.wgsl"),
    ),
    ("tallies", include_str!("../../shaders/tallies.wgsl")),
    ("transport", include_str!("../../shaders/transport.wgsl")),
];

/// The full source of kernel `name` (its file name without `.wgsl`).
pub fn source(name: &str) -> String {
    let kernel = KERNELS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no kernel {name} in shaders/"))
        .1;
    format!("{}\n{}\n{kernel}", super::shared::wgsl(), SHARED.join("\n"))
}
