//! The host's side of `shaders/spontaneous_emission.wgsl`: drawing the spontaneous
//! emission's packets from the sampled platelets on the device (the device's
//! [`crate::ase::spontaneous::launch`]), a workgroup per group of a cell's packets.

use super::platelet_decay::DecayParams;
use super::platelets::GpuPlatelets;
use crate::ase::AseSetup;
use crate::ase::spontaneous::Draw;
use crate::error::{Error, Result};

impl LaunchParams {
    /// The parameters of `setup` that hold for every dispatch, the seed and samples as
    /// the loss events' `params` have them.
    pub(super) fn new(setup: &AseSetup, params: &DecayParams) -> Self {
        let optics = &setup.optics;
        LaunchParams {
            seed_lo: params.seed_lo,
            seed_hi: params.seed_hi,
            samples: params.samples,
            bins: setup.spectrum.bins as u32,
            cone: u32::from(setup.axial_cone_cos.is_some()),
            cone_cos: setup.axial_cone_cos.unwrap_or(1.0) as f32,
            hwhm_ev: optics.line.hwhm_ev as f32,
            biexciton_shift_ev: optics.biexciton_shift_ev as f32,
            mean_ev: optics.mean_energy_ev as f32,
            min_nm: setup.spectrum.min_nm as f32,
            bin_nm: setup.spectrum.width_nm() as f32,
            ..LaunchParams::default()
        }
    }
}

/// `NOTHING` in spontaneous_emission.wgsl.
pub use super::shared::NOTHING;
/// The structs this kernel shares with the host (`LaunchParams`, `LaunchEntry`, `Launched`), defined
/// once in `gpu::shared`.
pub use super::shared::{LaunchEntry, LaunchParams, Launched};

/// Packets of one cell a launch workgroup draws (`WORKGROUP` there).
pub const LAUNCH_GROUP: u32 = 64;

impl GpuPlatelets<'_> {
    /// Draw the spontaneous-emission packets of step `step` of sweep point `point`:
    /// `launches` lists (cell, packets, sampled excitons its platelets hold). Returns
    /// the packets cell by cell, in the order listed.
    pub fn launch(
        &mut self,
        point: u32,
        step: u32,
        launches: &[(u32, u32, u64)],
    ) -> Result<Vec<Launched>> {
        let gpu = self.gpu;
        let mut entries = Vec::new();
        let mut total = 0u32;
        for &(cell, packets, excitons) in launches {
            if cell as usize >= self.cells || excitons > u64::from(u32::MAX) {
                return Err(Error::Runtime(format!(
                    "GPU {}: a launch from cell {cell} (of {}) holding {excitons} excitons",
                    gpu.info.name, self.cells
                )));
            }
            for k0 in (0..packets).step_by(LAUNCH_GROUP as usize) {
                let n = (packets - k0).min(LAUNCH_GROUP);
                entries.push(LaunchEntry {
                    cell,
                    k0,
                    packets: n,
                    excitons: excitons as u32,
                    out: total,
                    ..LaunchEntry::default()
                });
                total += n;
            }
        }
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let entry_bytes = std::mem::size_of_val(entries.as_slice()) as u64;
        if self
            .launch_entries
            .as_ref()
            .is_none_or(|b| b.size() < entry_bytes)
        {
            self.launch_entries =
                Some(gpu.input("launch entries", entry_bytes.next_power_of_two()));
        }
        let out_bytes = u64::from(total) * std::mem::size_of::<Launched>() as u64;
        if self
            .launched
            .as_ref()
            .is_none_or(|(b, _)| b.size() < out_bytes)
        {
            let size = out_bytes.next_power_of_two();
            self.launched = Some((
                gpu.storage("launched packets", size),
                gpu.readback("launched packets read-back", size),
            ));
        }
        let (Some(entries_buffer), Some((launched, launched_back))) =
            (&self.launch_entries, &self.launched)
        else {
            unreachable!("made above");
        };
        gpu.write(entries_buffer, bytemuck::cast_slice(&entries));
        let params = LaunchParams {
            point,
            step,
            count: entries.len() as u32,
            ..self.launch
        };
        self.run_kernel(
            "spontaneous emission",
            &self.launch_pipeline,
            &params,
            &[&self.counts, &self.energy, entries_buffer, launched],
            entries.len() as u32,
            &[(launched, launched_back, out_bytes)],
            |bytes| bytemuck::cast_slice::<u8, Launched>(bytes[0]).to_vec(),
        )
    }
}

/// The device's draws in the host's terms.
impl GpuPlatelets<'_> {
    /// Draw the spontaneous-emission packets of step `step` of sweep point `point` as
    /// `spontaneous::launch` draws them: `launches` lists (cell, packets, the sampled
    /// excitons its platelets hold). Returns each cell's draws, in the order listed.
    pub fn draws(
        &mut self,
        (point, step): (u32, u32),
        launches: &[(u32, u32, u64)],
    ) -> Result<Vec<Draw>> {
        // Each packet's cell's first platelet, in the order drawn.
        let samples = self.samples;
        let firsts = launches.iter().flat_map(|&(c, packets, _)| {
            std::iter::repeat_n(c as usize * samples, packets as usize)
        });
        let dir = |d: [f32; 4]| [d[0], d[1], d[2]].map(f64::from);
        Ok(GpuPlatelets::launch(self, point, step, launches)?
            .into_iter()
            .zip(firsts)
            .map(|(l, first)| Draw {
                platelet: (l.platelet != NOTHING).then(|| l.platelet as usize - first),
                bin: (l.bin != NOTHING).then_some(l.bin),
                time_fraction: f64::from(l.time),
                dirs: [dir(l.dir_a), dir(l.dir_b)],
            })
            .collect())
    }
}
