//! The host's side of `shaders/tallies.wgsl`: its parameters, pipeline and totals, and
//! the reading of the totals. The kernel sums what the packets of a dispatch of the ASE
//! transport ([`super::ase_transport`]) gained, lost and took out of the film (in fixed
//! point, so that the sums do not depend on the order they are added in); where a term
//! is beyond the fixed point's range, the host sums the packets as moved instead.

use super::ase_packets::{ENTRIES, Entry, MovedPacket, OVERFLOW};
/// The structs this kernel shares with the host (`TallyParams`), defined
/// once in `gpu::shared`.
pub use super::shared::TallyParams;
use super::{Gpu, shared};
use crate::ase::AseSetup;
use crate::ase::photons::{AsePacket, Fate};
use crate::ase::tally::{EXITS, ExitTally, Ledger};

/// Packets an invocation of tallies.wgsl sums.
pub(super) use super::shared::TALLY_RUN;
/// The totals of tallies.wgsl before the exits' spectra and time traces, by index:
/// photons stimulated, absorbed and lost to the background, roulette's net weight,
/// path segments, and terms beyond the fixed point's range.
const STIMULATED: usize = shared::TOTAL_STIMULATED as usize;
const ABSORBED: usize = shared::TOTAL_ABSORBED as usize;
const BACKGROUND: usize = shared::TOTAL_BACKGROUND as usize;
const ROULETTE: usize = shared::TOTAL_ROULETTE as usize;
const SEGMENTS: usize = shared::TOTAL_SEGMENTS as usize;
const OUT_OF_RANGE: usize = shared::TOTAL_OUT_OF_RANGE as usize;
const TALLY_SCALARS: usize = shared::TOTAL_SCALARS as usize;
/// The units of tallies.wgsl's fixed point a photon for a dispatch whose heaviest
/// packet at the step's start carries `heaviest` photons: 2^64 a power of two at or
/// above it (so that a photon count times it is exact in single precision), within
/// single precision's range.
fn tally_scale(heaviest: f64) -> f64 {
    let above = if heaviest > 0.0 {
        heaviest.log2().ceil()
    } else {
        0.0
    };
    (64.0 - above).clamp(-100.0, 100.0).exp2()
}

/// Bytes of tallies.wgsl's totals for `setup`: four words each.
pub(super) fn tally_bytes(setup: &AseSetup) -> u64 {
    let exits = EXITS.len() * (setup.spectrum.bins + setup.time_bins);
    16 * (TALLY_SCALARS + exits) as u64
}

/// Total `k` of tallies.wgsl: the 128-bit integer in words `4k` (lowest) to `4k + 3`.
fn total(words: &[u32], k: usize) -> i128 {
    (0..4).fold(0u128, |t, j| t | (u128::from(words[4 * k + j]) << (32 * j))) as i128
}

/// Add the totals of tallies.wgsl (`words`, in units of 1/`scale` photons) to
/// `ledger` and `tally`; returns the path segments.
fn add_device_tallies(
    words: &[u32],
    scale: f64,
    ledger: &mut Ledger,
    tally: &mut ExitTally,
) -> u64 {
    let photons = |k: usize| total(words, k) as f64 / scale;
    ledger.stimulated += photons(STIMULATED);
    ledger.absorbed += photons(ABSORBED);
    ledger.background += photons(BACKGROUND);
    ledger.roulette_net += photons(ROULETTE);
    let (bins, time_bins) = (tally.bins, tally.time_bins);
    let traces = TALLY_SCALARS + EXITS.len() * bins;
    for e in 0..EXITS.len() {
        let spectrum = TALLY_SCALARS + e * bins;
        for b in 0..bins {
            tally.spectrum[e * bins + b] += photons(spectrum + b);
        }
        for t in 0..time_bins {
            tally.trace[e * time_bins + t] += photons(traces + e * time_bins + t);
        }
        let left: i128 = (0..bins).map(|b| total(words, spectrum + b)).sum();
        ledger.exits[e] += left as f64 / scale;
    }
    total(words, SEGMENTS) as u64
}

/// Add the totals of tallies.wgsl (`words`, in units of 1/`scale` photons) to
/// `ledger` and `tally`, unless a term was beyond their range: then what the host sums
/// of the packets as moved (`chunk`, `moved`, `entries`) in their place. Returns the
/// path segments and whether the host summed them.
pub(super) fn add_tallies(
    words: &[u32],
    scale: f64,
    chunk: &[AsePacket],
    moved: &[MovedPacket],
    entries: &[Entry],
    ledger: &mut Ledger,
    tally: &mut ExitTally,
) -> (u64, bool) {
    if total(words, OUT_OF_RANGE) == 0 {
        (add_device_tallies(words, scale, ledger, tally), false)
    } else {
        (add_host_tallies(chunk, moved, entries, ledger, tally), true)
    }
}

/// What tallies.wgsl sums, summed on the host instead from the packets as moved
/// (`chunk` already continued from `moved`; packets followed on the CPU left out):
/// returns the path segments.
fn add_host_tallies(
    chunk: &[AsePacket],
    moved: &[MovedPacket],
    entries: &[Entry],
    ledger: &mut Ledger,
    tally: &mut ExitTally,
) -> u64 {
    let mut segments = 0u64;
    for (j, (p, m)) in chunk.iter().zip(moved).enumerate() {
        if m.fate() == OVERFLOW {
            continue;
        }
        ledger.background += f64::from(m.background);
        ledger.roulette_net += f64::from(m.roulette_net);
        segments += u64::from(m.segments);
        if let Fate::Exited(exit) = p.fate {
            tally.add(exit, p.bin as usize, p.time_ps, p.weight);
            ledger.exits[exit as usize] += p.weight;
        }
        for e in &entries[j * ENTRIES..j * ENTRIES + m.entries()] {
            ledger.stimulated += f64::from(e.stimulated);
            ledger.absorbed += f64::from(e.absorbed);
        }
    }
    segments
}

/// tallies.wgsl's pipeline and totals, with their read-back copy.
pub(super) struct Tallies {
    pub(super) pipeline: wgpu::ComputePipeline,
    pub(super) totals: wgpu::Buffer,
    pub(super) back: wgpu::Buffer,
    /// Photons a unit of the fixed point, when set for every dispatch (tests).
    pub(super) unit: Option<f64>,
}

impl Tallies {
    /// The uniform of tallies.wgsl's parameters for a dispatch of the packets `chunk`
    /// (in `bins` bins) of a step from `t0` on, in the time bins of `tally`, with the
    /// photons a unit of the fixed point of the totals.
    pub(super) fn uniform(
        &self,
        gpu: &Gpu,
        chunk: &[AsePacket],
        bins: u32,
        t0: f64,
        tally: &ExitTally,
    ) -> (wgpu::Buffer, f64) {
        let count = chunk.len() as u32;
        let start = t0 / tally.time_bin_ps;
        let heaviest = chunk.iter().map(|p| p.weight).fold(0.0, f64::max);
        let scale = self.unit.map_or(tally_scale(heaviest), |u| 1.0 / u);
        let params = TallyParams {
            count,
            bins,
            time_bins: tally.time_bins as u32,
            start_bin: start.floor() as u32,
            start_fraction: start.fract() as f32,
            per_time_bin: (1.0 / tally.time_bin_ps) as f32,
            scale: scale as f32,
            _pad0: 0,
        };
        (gpu.uniform("ase tally params", &params), scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::Dispatch;
    use crate::gpu::ase_packets::{ALIVE, EXITED, GpuPacket, KILLED, PACKETS_PER_ROW};
    use crate::gpu::ase_transport::WORKGROUP;
    use crate::rng::{Purpose, Stream};

    /// `count` made-up packets in `bins` bins, as uploaded and as moved, with their
    /// entries: every fate, up to every entry, terms of either sign across 2^60 of
    /// magnitude about `heaviest`, exits in every bin.
    fn made_up_packets(
        count: u32,
        bins: usize,
        heaviest: f64,
    ) -> (Vec<GpuPacket>, Vec<MovedPacket>, Vec<Entry>) {
        let mut rng = Stream::new(5, Purpose::Photon, 0, 0, 0);
        // A term of 2^-40 to 2^20 of the heaviest weight (those up to 2^40 of it in the
        // fixed point's range, and every one exact there), of either sign where `signed`.
        let mut term = |signed: bool| -> f32 {
            let x = (heaviest * (rng.uniform() * 60.0 - 40.0).exp2()) as f32;
            if signed && rng.uniform() < 0.5 { -x } else { x }
        };
        let mut packets_in = Vec::new();
        let mut moved = Vec::new();
        let mut entries = vec![Entry::default(); count as usize * ENTRIES];
        for i in 0..count as usize {
            let fate = [ALIVE, EXITED, KILLED, OVERFLOW, EXITED][i % 5];
            let exit = (i / 5) % EXITS.len();
            let used = (i / 3) % (ENTRIES + 1);
            packets_in.push(GpuPacket {
                bin: ((i * 7) % bins) as u32,
                ..GpuPacket::default()
            });
            moved.push(MovedPacket {
                weight: term(false),
                time_ps: (i % 97) as f32 * 0.0123,
                background: term(false),
                roulette_net: term(true),
                segments: (i % 13) as u32 + 1,
                state: (fate << 8) | ((exit as u32) << 16) | ((used as u32) << 24),
                ..MovedPacket::default()
            });
            for e in &mut entries[i * ENTRIES..i * ENTRIES + used] {
                *e = Entry {
                    cell: 0,
                    stimulated: term(false),
                    absorbed: term(false),
                    _pad0: 0,
                };
            }
        }
        (packets_in, moved, entries)
    }

    /// The totals of `packets_in`, `moved` and `entries` in `bins` bins and
    /// `time_bins` time bins (from bin 2.75 on, 2.5 a ps), in units of 1/`scale`
    /// photons, rounded as the kernel rounds them.
    fn expected_totals(
        packets_in: &[GpuPacket],
        moved: &[MovedPacket],
        entries: &[Entry],
        (bins, time_bins): (usize, usize),
        scale: f64,
    ) -> Vec<i128> {
        let units = |x: f32| (f64::from(x) * scale).round_ties_even() as i128;
        let mut expected = vec![0i128; TALLY_SCALARS + EXITS.len() * (bins + time_bins)];
        for (i, m) in moved.iter().enumerate() {
            if m.fate() == OVERFLOW {
                continue;
            }
            expected[STIMULATED] += entries[i * ENTRIES..i * ENTRIES + m.entries()]
                .iter()
                .map(|e| units(e.stimulated))
                .sum::<i128>();
            expected[ABSORBED] += entries[i * ENTRIES..i * ENTRIES + m.entries()]
                .iter()
                .map(|e| units(e.absorbed))
                .sum::<i128>();
            expected[BACKGROUND] += units(m.background);
            expected[ROULETTE] += units(m.roulette_net);
            expected[SEGMENTS] += i128::from(m.segments);
            if m.fate() == EXITED {
                let e = m.exit();
                let within = (0.75f32 + m.time_ps * 2.5).floor() as usize;
                let t = (2 + within).min(time_bins - 1);
                let w = units(m.weight);
                expected[TALLY_SCALARS + e * bins + packets_in[i].bin as usize] += w;
                expected[TALLY_SCALARS + EXITS.len() * bins + e * time_bins + t] += w;
            }
        }
        expected
    }

    /// tallies.wgsl on made-up packets (a thousand of each run of `TALLY_RUN` and
    /// more: every fate, up to every entry, terms of either sign across 2^60 of
    /// magnitude, exits in every bin) gives the exact integer sums of the terms in
    /// its fixed point, word for word, as Rust's 128-bit integers give them.
    #[test]
    fn the_device_tallies_are_exact_sums_in_fixed_point() {
        let Some(gpu) = Gpu::open().expect("the GPU opens") else {
            assert!(
                std::env::var_os("ASEMC_REQUIRE_GPU").is_none(),
                "ASEMC_REQUIRE_GPU is set but wgpu finds no adapter"
            );
            println!("skipped: wgpu finds no adapter here");
            return;
        };
        let (bins, time_bins, count) = (16usize, 7usize, 70_000u32);
        let heaviest = 3.0e4;
        let scale = tally_scale(heaviest);
        let (packets_in, mut moved, entries) = made_up_packets(count, bins, heaviest);
        let params = TallyParams {
            count,
            bins: bins as u32,
            time_bins: time_bins as u32,
            start_bin: 2,
            start_fraction: 0.75,
            per_time_bin: 2.5,
            scale: scale as f32,
            _pad0: 0,
        };

        // The sums Rust makes of the same terms, rounded as the kernel rounds them.
        let expected = expected_totals(&packets_in, &moved, &entries, (bins, time_bins), scale);
        // Every word of the totals in use, and negative terms among them.
        assert!(expected[STIMULATED] > 1 << 96 && moved.iter().any(|m| m.roulette_net < 0.0));
        // A single-precision term of at least 2^-40 of the heaviest weight is a whole
        // number of the fixed point's units: the rounding above leaves it as it is.
        let exact = |x: f32| {
            let u = f64::from(x) * scale;
            f64::from(x).abs() < heaviest * 2f64.powi(-40) || u == u.round()
        };
        assert!(
            entries
                .iter()
                .all(|e| exact(e.stimulated) && exact(e.absorbed))
        );
        assert!(
            moved
                .iter()
                .all(|m| exact(m.roulette_net) && exact(m.background))
        );

        let bytes = 16 * expected.len() as u64;
        let (texture, view) = gpu.texture(
            "packets in",
            wgpu::TextureFormat::Rgba32Uint,
            3 * PACKETS_PER_ROW,
            count.div_ceil(PACKETS_PER_ROW),
        );
        gpu.write_rows(&texture, bytemuck::cast_slice(&packets_in));
        let packets = gpu.storage("moved", std::mem::size_of_val(moved.as_slice()) as u64);
        gpu.write(&packets, bytemuck::cast_slice(&moved));
        let entry_buffer = gpu.storage("entries", std::mem::size_of_val(entries.as_slice()) as u64);
        gpu.write(&entry_buffer, bytemuck::cast_slice(&entries));
        let totals = gpu.storage("totals", bytes);
        gpu.write(&totals, &vec![0; bytes as usize]);
        let back = gpu.readback("totals back", bytes);
        let uniform = gpu.uniform("params", &params);
        let pipeline = gpu.pipeline("tallies", "tallies").unwrap();
        let dispatch = Dispatch {
            pipeline: &pipeline,
            buffers: &[&uniform, &packets, &entry_buffer, &totals],
            textures: &[&view],
            workgroups: gpu.grid(count.div_ceil(TALLY_RUN * WORKGROUP)),
        };
        let got: Vec<i128> = gpu
            .run_then_read("tallies", &dispatch, &[(&totals, &back, bytes)], |b| {
                let words: &[u32] = bytemuck::cast_slice(b[0]);
                (0..expected.len()).map(|k| total(words, k)).collect()
            })
            .unwrap();
        assert_eq!(got[OUT_OF_RANGE], 0, "terms out of range");
        for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "total {k}");
        }

        // A term beyond 2^40 of the heaviest weight is counted, not summed.
        moved[0].background = (heaviest * 2f64.powi(41)) as f32;
        gpu.write(&packets, bytemuck::cast_slice(&moved));
        gpu.write(&totals, &vec![0; bytes as usize]);
        let out_of_range = gpu
            .run_then_read("tallies", &dispatch, &[(&totals, &back, bytes)], |b| {
                total(bytemuck::cast_slice(b[0]), OUT_OF_RANGE)
            })
            .unwrap();
        assert_eq!(out_of_range, 1);
    }
}
