//! The constants the WGSL kernels share with Rust, defined once: Rust uses them from
//! here, and [`wgsl`] emits them as WGSL `const` declarations that prefix every kernel.
//! A kernel refers to them by the same names.

/// Layers of the stack (`transport::geometry::FILM`, `SUBSTRATE`).
pub const FILM: u32 = 0;
pub const SUBSTRATE: u32 = 1;

/// Purposes of the random streams (`rng::Purpose` as u32).
pub const PURPOSE_TRANSPORT: u32 = 1;
pub const PURPOSE_DECAY: u32 = 3;
pub const PURPOSE_PHOTON: u32 = 4;
pub const PURPOSE_SPONTANEOUS: u32 = 6;

/// Fates of a packet after an ASE transport step (`MovedPacket` state bits 8–15).
pub const ALIVE: u32 = 0;
pub const EXITED: u32 = 1;
pub const KILLED: u32 = 2;
/// Met more cells than it has entries for, or took more segments than the adapter's
/// loops run: followed on the CPU.
pub const OVERFLOW: u32 = 3;

/// The ASE engine's exits (`ase::tally::Exit` as u32), and how many there are.
pub const DETECTOR: u32 = 0;
pub const OTHER_EDGES: u32 = 1;
pub const SURFACE: u32 = 2;
pub const SUBSTRATE_EXIT: u32 = 3;
pub const EXITS: u32 = 4;

/// Exchange entries a packet holds in a step on the GPU.
pub const ENTRIES: u32 = 8;
/// Packets a row of the texture the ASE packets are uploaded in (three RGBA32 texels
/// each).
pub const PACKETS_PER_ROW: u32 = 1024;
/// Threads per workgroup of the platelet, spontaneous-emission, transport and tally
/// kernels.
pub const WORKGROUP: u32 = 64;
/// Loop passes an invocation makes before it stops and leaves the rest to a further
/// dispatch (or to the host): lavapipe runs an invocation's loops 65535 times in all
/// and then leaves them without a word (a pass can count twice), so every kernel stays
/// below that.
pub const LOOP_PASSES: u32 = 30_000;
/// Stream blocks (of four numbers) each part of a platelet's stream in a step takes.
pub const PART_BLOCKS: u32 = 1 << 22;
/// "No platelet", "no bin" in the kernels' records.
pub const NOTHING: u32 = 0xffff_ffff;
/// Lanes of a subgroup-free prefix sum (`shaders/shared/lanes.wgsl`).
pub const LANES: u32 = 32;
/// Count changes a row of the texture `cell_gain.wgsl` reads them from.
pub const CHANGES_PER_ROW: u32 = 4096;
/// A platelet count meaning "none" in the gain kernel's lists (no line before).
pub const NONE: u32 = 0xffff;

/// Totals of `tallies.wgsl` before the exits' spectra and time traces, by index:
/// photons stimulated, absorbed and lost to the background, roulette's net weight,
/// path segments, and terms beyond the fixed point's range.
pub const TOTAL_STIMULATED: u32 = 0;
pub const TOTAL_ABSORBED: u32 = 1;
pub const TOTAL_BACKGROUND: u32 = 2;
pub const TOTAL_ROULETTE: u32 = 3;
pub const TOTAL_SEGMENTS: u32 = 4;
pub const TOTAL_OUT_OF_RANGE: u32 = 5;
/// The totals before the spectra.
pub const TOTAL_SCALARS: u32 = 6;
/// Packets an invocation of `tallies.wgsl` sums.
pub const TALLY_RUN: u32 = 64;

/// Channels of a passive packet's score (`transport::tally::CHANNELS`).
pub const CHANNELS: u32 = 12;

/// Kinds of a booking order (`ase::exchange::OrderKind` as u32).
pub const ORDER_STIMULATED: u32 = 0;
pub const ORDER_ABSORBED: u32 = 1;
pub const ORDER_RADIATIVE: u32 = 2;

/// Every shared constant, by its WGSL name.
const TABLE: [(&str, u32); 36] = [
    ("FILM", FILM),
    ("SUBSTRATE", SUBSTRATE),
    ("PURPOSE_TRANSPORT", PURPOSE_TRANSPORT),
    ("PURPOSE_DECAY", PURPOSE_DECAY),
    ("PURPOSE_PHOTON", PURPOSE_PHOTON),
    ("PURPOSE_SPONTANEOUS", PURPOSE_SPONTANEOUS),
    ("ALIVE", ALIVE),
    ("EXITED", EXITED),
    ("KILLED", KILLED),
    ("OVERFLOW", OVERFLOW),
    ("DETECTOR", DETECTOR),
    ("OTHER_EDGES", OTHER_EDGES),
    ("SURFACE", SURFACE),
    ("SUBSTRATE_EXIT", SUBSTRATE_EXIT),
    ("EXITS", EXITS),
    ("ENTRIES", ENTRIES),
    ("PACKETS_PER_ROW", PACKETS_PER_ROW),
    ("WORKGROUP", WORKGROUP),
    ("LOOP_PASSES", LOOP_PASSES),
    ("PART_BLOCKS", PART_BLOCKS),
    ("NOTHING", NOTHING),
    ("LANES", LANES),
    ("CHANGES_PER_ROW", CHANGES_PER_ROW),
    ("NONE", NONE),
    ("TOTAL_STIMULATED", TOTAL_STIMULATED),
    ("TOTAL_ABSORBED", TOTAL_ABSORBED),
    ("TOTAL_BACKGROUND", TOTAL_BACKGROUND),
    ("TOTAL_ROULETTE", TOTAL_ROULETTE),
    ("TOTAL_SEGMENTS", TOTAL_SEGMENTS),
    ("TOTAL_OUT_OF_RANGE", TOTAL_OUT_OF_RANGE),
    ("TOTAL_SCALARS", TOTAL_SCALARS),
    ("TALLY_RUN", TALLY_RUN),
    ("ORDER_STIMULATED", ORDER_STIMULATED),
    ("ORDER_ABSORBED", ORDER_ABSORBED),
    ("ORDER_RADIATIVE", ORDER_RADIATIVE),
    ("CHANNELS", CHANNELS),
];

/// The shared constants as WGSL declarations.
pub fn wgsl() -> String {
    let mut s = String::from(
        "// The constants shared with Rust, emitted from src/gpu/shared/constants.rs.\n",
    );
    for (name, value) in TABLE {
        s.push_str(&format!("const {name}: u32 = {value}u;\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ase::exchange::OrderKind;
    use crate::ase::tally::Exit;
    use crate::rng::Purpose;
    use crate::transport::geometry;

    /// The constants that name a Rust enum's values or a Rust index are those values.
    #[test]
    fn shared_constants_are_the_rust_values_they_name() {
        assert_eq!(
            (FILM, SUBSTRATE),
            (geometry::FILM as u32, geometry::SUBSTRATE as u32)
        );
        assert_eq!(
            [
                PURPOSE_TRANSPORT,
                PURPOSE_DECAY,
                PURPOSE_PHOTON,
                PURPOSE_SPONTANEOUS
            ],
            [
                Purpose::Transport,
                Purpose::Decay,
                Purpose::Photon,
                Purpose::Spontaneous
            ]
            .map(|p| p as u32)
        );
        assert_eq!(
            [DETECTOR, OTHER_EDGES, SURFACE, SUBSTRATE_EXIT],
            [
                Exit::Detector,
                Exit::OtherEdges,
                Exit::Surface,
                Exit::Substrate
            ]
            .map(|e| e as u32)
        );
        assert_eq!(EXITS as usize, crate::ase::tally::EXITS.len());
        assert_eq!(CHANNELS as usize, crate::transport::tally::CHANNELS);
        assert_eq!(
            [ORDER_STIMULATED, ORDER_ABSORBED, ORDER_RADIATIVE],
            [
                OrderKind::Stimulated,
                OrderKind::Absorbed,
                OrderKind::Radiative
            ]
            .map(|k| k as u32)
        );
    }

    /// Every constant is emitted once, under its own name.
    #[test]
    fn every_constant_is_emitted_once() {
        let text = wgsl();
        let mut names: Vec<&str> = TABLE.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert!(text.contains("const LOOP_PASSES: u32 = 30000u;"), "{text}");
        assert_eq!(text.matches("const ").count(), TABLE.len());
    }
}
