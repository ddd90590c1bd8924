//! The host's side of `shaders/platelet_decay.wgsl`: the loss events of the sampled
//! platelets within a time step (the device's [`crate::ase::platelets::loss_events`]),
//! one workgroup per listed cell, and what each cell then holds.

use super::platelets::{GpuPlatelets, summary};
/// The structs this kernel shares with the host (`DecayParams`, `CellDecay`), defined
/// once in `gpu::shared`.
pub use super::shared::{CellDecay, DecayParams};
use crate::ase::AseSetup;
use crate::ase::CellSummary;
use crate::error::{Error, Result};

impl DecayParams {
    /// The parameters of `setup` that hold for every dispatch.
    pub(super) fn new(setup: &AseSetup) -> Self {
        let samples = setup.samples_per_cell;
        let kinetics = &setup.kinetics;
        DecayParams {
            seed_lo: setup.seed as u32,
            seed_hi: (setup.seed >> 32) as u32,
            samples: samples as u32,
            degeneracy: setup.optics.degeneracy,
            k_nonrad: kinetics.k_nonrad as f32,
            k_xx: kinetics.k_xx as f32,
            ..DecayParams::default()
        }
    }
}

/// A cell's loss events in a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    pub nonradiative: u64,
    pub auger: u64,
}

impl GpuPlatelets<'_> {
    /// The loss events before `t1` of step `step` of sweep point `point` on the
    /// platelets of `cells`; returns each listed cell's [`CellDecay`], in order.
    pub fn decay(&self, point: u32, step: u32, t1: f64, cells: &[u32]) -> Result<Vec<CellDecay>> {
        let gpu = self.gpu;
        if let Some(&c) = cells.iter().find(|&&c| c as usize >= self.cells) {
            return Err(Error::Runtime(format!(
                "GPU {}: decay of cell {c} of a film of {}",
                gpu.info.name, self.cells
            )));
        }
        // Each cell's summary as its last dispatch leaves it, and the events of all of
        // them: a cell whose workgroup stopped is dispatched again.
        let mut out = vec![CellDecay::default(); cells.len()];
        let mut todo: Vec<usize> = (0..cells.len()).collect();
        let mut part = 0;
        while !todo.is_empty() {
            let listed: Vec<u32> = todo.iter().map(|&k| cells[k]).collect();
            let done = self.decay_part(point, step, part, t1, &listed)?;
            let mut again = Vec::new();
            for (&k, d) in todo.iter().zip(done) {
                let (nonradiative, auger) =
                    (out[k].nonradiative + d.nonradiative, out[k].auger + d.auger);
                out[k] = CellDecay {
                    nonradiative,
                    auger,
                    ..d
                };
                if d.stopped != 0 {
                    again.push(k);
                }
            }
            todo = again;
            part += 1;
        }
        Ok(out)
    }

    /// One dispatch of the loss events (its `part`-th): see `decay`.
    fn decay_part(
        &self,
        point: u32,
        step: u32,
        part: u32,
        t1: f64,
        cells: &[u32],
    ) -> Result<Vec<CellDecay>> {
        let gpu = self.gpu;
        let per_dispatch = self.cells_per_dispatch();
        let mut out = Vec::with_capacity(cells.len());
        for batch in cells.chunks(per_dispatch) {
            gpu.write(&self.dispatched, bytemuck::cast_slice(batch));
            let params = DecayParams {
                point,
                step,
                count: batch.len() as u32,
                part,
                t1: t1 as f32,
                ..self.params
            };
            let size = (batch.len() * std::mem::size_of::<CellDecay>()) as u64;
            self.run_kernel(
                "platelet decay",
                &self.decay_pipeline,
                &params,
                &[&self.counts, &self.next, &self.dispatched, &self.decayed],
                batch.len() as u32,
                &[(&self.decayed, &self.decayed_back, size)],
                |bytes| out.extend_from_slice(bytemuck::cast_slice::<u8, CellDecay>(bytes[0])),
            )?;
        }
        Ok(out)
    }
}

/// The device's loss events in the host's terms: cell summaries and loss counts.
impl GpuPlatelets<'_> {
    /// The loss events before `t1` of step `step` of sweep point `point` on the
    /// platelets of `cells`: what each cell then holds, and its events.
    pub fn decay_summaries(
        &mut self,
        point: u32,
        step: u32,
        t1: f64,
        cells: &[u32],
    ) -> Result<Vec<(CellSummary, Losses)>> {
        Ok(GpuPlatelets::decay(self, point, step, t1, cells)?
            .into_iter()
            .map(|d| {
                let losses = Losses {
                    nonradiative: u64::from(d.nonradiative),
                    auger: u64::from(d.auger),
                };
                (summary(d.excitons, d.room, d.next), losses)
            })
            .collect())
    }
}
