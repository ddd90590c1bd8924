//! The ASE packets between the host and the device: the layouts
//! `shaders/ase_transport.wgsl` takes them in, moves them into and writes their
//! exchange with the cells in (which `shaders/tallies.wgsl` reads too), the host's
//! continuing of a dispatch's packets from what the device returns, and the CPU's
//! following of those the device could not move to the step's end.

use super::gain::GpuGain;
/// The structs this kernel shares with the host (`GpuPacket`, `MovedPacket`, `Entry`), defined
/// once in `gpu::shared`.
pub use super::shared::{Entry, GpuPacket, MovedPacket};
use crate::ase::Span;
use crate::ase::photons::{AsePacket, Exchange, Fate, StepOutput, StepView, advance};
use crate::ase::tally::{EXITS, ExitTally, Ledger};
use crate::error::Result;

/// Exchange entries per packet and step (`ENTRIES` in ase_transport.wgsl).
pub const ENTRIES: usize = super::shared::ENTRIES as usize;

impl MovedPacket {
    fn layer(&self) -> usize {
        (self.state & 0xff) as usize
    }
    pub(super) fn fate(&self) -> u32 {
        (self.state >> 8) & 0xff
    }
    pub(super) fn exit(&self) -> usize {
        ((self.state >> 16) & 0xff) as usize
    }
    pub(super) fn entries(&self) -> usize {
        (self.state >> 24) as usize
    }
}

// Fates of MovedPacket.
pub(super) use super::shared::{ALIVE, EXITED, KILLED, OVERFLOW};

/// Bytes of device memory per packet of one dispatch: its state as moved and its
/// entries, each with a read-back copy, and its state as uploaded (a texture).
pub const PER_PACKET: u64 = (2
    * (std::mem::size_of::<MovedPacket>() + ENTRIES * std::mem::size_of::<Entry>())
    + std::mem::size_of::<GpuPacket>()) as u64;

/// Packets a row of the texture the packets are uploaded in (`PACKETS_PER_ROW` in
/// ase_transport.wgsl): three RGBA32 texels each.
pub(super) use super::shared::PACKETS_PER_ROW;

/// Continue `chunk`, the step's packets from the `first`-th on (in `bins` bins, their
/// times counted from `t0`), from the device's `moved` and `entries`: the packets the
/// GPU did not follow to the end go onto `overflow` (by index in the step's list),
/// each other packet's exchange with the cells onto `exchange`. A fate the kernel
/// does not give is returned as the error.
pub(super) fn continue_batch(
    chunk: &mut [AsePacket],
    (moved, entries): (&[MovedPacket], &[Entry]),
    first: usize,
    t0: f64,
    bins: u32,
    overflow: &mut Vec<usize>,
    exchange: &mut Vec<Exchange>,
) -> std::result::Result<(), u32> {
    for (j, (p, m)) in chunk.iter_mut().zip(moved).enumerate() {
        let index = (first + j) as u32;
        if m.fate() == OVERFLOW {
            overflow.push(index as usize);
            continue;
        }
        p.pos = m.pos.map(f64::from);
        p.dir = m.dir.map(f64::from);
        p.weight = f64::from(m.weight);
        p.time_ps = t0 + f64::from(m.time_ps);
        p.layer = m.layer();
        match m.fate() {
            ALIVE => {}
            EXITED => p.fate = Fate::Exited(EXITS[m.exit()]),
            KILLED => p.fate = Fate::Killed,
            other => return Err(other),
        }
        // Only the film's cells give and take photons: the packet's
        // exchange is all in its entries.
        for e in &entries[j * ENTRIES..j * ENTRIES + m.entries()] {
            if e.stimulated > 0.0 || e.absorbed > 0.0 {
                exchange.push(Exchange {
                    cell_bin: e.cell * bins + p.bin,
                    packet: index,
                    stimulated: f64::from(e.stimulated),
                    absorbed: f64::from(e.absorbed),
                });
            }
        }
    }
    Ok(())
}

/// Follow the packets `overflow` (by index in `packets`) on the CPU from their
/// state at the step's start to the end of `span`, with the same stream and the
/// device's gain spectra (read from `gain`; `view`'s are not), adding what they did
/// to `tally`, `ledger` and `exchange`. Returns the path segments.
#[allow(clippy::too_many_arguments)]
pub(super) fn follow_on_cpu(
    view: &StepView,
    gain: &GpuGain,
    packets: &mut [AsePacket],
    overflow: Vec<usize>,
    span: Span,
    tally: &mut ExitTally,
    ledger: &mut Ledger,
    exchange: &mut Vec<Exchange>,
) -> Result<u64> {
    let Span {
        point, step, t1, ..
    } = span;
    let setup = view.setup;
    let mut stim = vec![0.0; view.stim.len()];
    let mut abs = vec![0.0; view.abs.len()];
    gain.read_spectra(&mut stim, &mut abs)?;
    let device_view = StepView {
        stim: &stim,
        abs: &abs,
        ..*view
    };
    let mut segments = 0u64;
    for index in overflow {
        let mut out = StepOutput::new(setup);
        advance(
            &device_view,
            &mut packets[index],
            index as u32,
            (point, step),
            t1,
            &mut out,
        );
        tally.merge(&out.tally);
        ledger.merge(&out.ledger);
        segments += out.segments;
        exchange.extend(out.exchange);
    }
    Ok(segments)
}
