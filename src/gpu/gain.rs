//! The cells' gain spectra kept on the GPU (`shaders/cell_gain.wgsl`), where the ASE
//! transport reads them. Before the packets move, the host lists the platelets whose
//! counts changed (from the engine's logs); the device replaces their lines, one
//! workgroup per cell with changes, and recomputes the spectra from every count now and
//! then to clear the rounding drift (the same kernel, with every platelet listed as
//! new). Where the platelets are kept on the device too ([`GpuGain::attach`]), the
//! kernel finds the changes itself, comparing their counts with those the spectra hold,
//! and the host only names the cells whose counts may have changed.

use super::{Dispatch, Gpu};
use crate::ase::AseSetup;
use crate::ase::platelets::Film;
use crate::ase::setup::Optics;
use crate::config::LineShape;
use crate::error::{Error, Result};

/// `NONE` in cell_gain.wgsl: the count of a platelet not yet counted.
pub use super::shared::NONE;
/// The structs this kernel shares with the host (`GainParams`, `CountChange`), defined
/// once in `gpu::shared`.
pub use super::shared::{CountChange, GainParams};

impl CountChange {
    fn new(energy: f32, before: u32, after: u32) -> Self {
        Self {
            energy,
            counts: before | after << 16,
        }
    }
}

/// Invocations of a `cell_gain.wgsl` workgroup (`LANES`), each taking 8 bins at a time.
const LANES: usize = super::shared::LANES as usize;

/// The most passes a `cell_gain.wgsl` invocation's loop may make on a software adapter
/// such as lavapipe, which runs an invocation's loops 65535 times in all.
const SOFTWARE_LOOP_PASSES: usize = super::shared::LOOP_PASSES as usize;

/// Most changes applied in one dispatch (more are applied a few cells at a time): a
/// quarter of a second on lavapipe.
const MAX_CHANGES: usize = 1 << 18;

/// Changes a row of the texture they are uploaded in (`CHANGES_PER_ROW` in
/// cell_gain.wgsl): a texel each.
const CHANGES_PER_ROW: usize = super::shared::CHANGES_PER_ROW as usize;

/// Rows of the changes' texture for `setup`: every platelet (a recomputation) up to
/// [`MAX_CHANGES`], and at least one cell's.
fn changes_rows(setup: &AseSetup) -> usize {
    let platelets = setup.grid.cells() * setup.samples_per_cell;
    platelets
        .min(MAX_CHANGES.max(setup.samples_per_cell))
        .div_ceil(CHANGES_PER_ROW)
}

/// Device memory of the gain spectra of `setup`, bytes: the spectra and their
/// read-back copies, the bins' energies, the changes of a dispatch (in whole rows),
/// where each cell's begin, and the cells of a dispatch.
pub fn memory_needed(setup: &AseSetup) -> u64 {
    let cells = setup.grid.cells();
    let bins = setup.spectrum.bins;
    (4 * (4 * cells * bins + bins + 2 * cells + 1)
        + changes_rows(setup) * CHANGES_PER_ROW * std::mem::size_of::<CountChange>()) as u64
}

/// The counts of the platelets kept on the device, which the spectra follow.
struct DeviceCounts {
    /// Every platelet's count and transition energy (bound from `GpuPlatelets`).
    counts: wgpu::Buffer,
    energy: wgpu::Buffer,
    /// The line count the spectra hold for each platelet (`NONE`: none).
    held: wgpu::Buffer,
    pipeline: wgpu::ComputePipeline,
}

/// The gain spectra of one film on a GPU.
pub struct GpuGain<'g> {
    gpu: &'g Gpu,
    params: GainParams,
    optics: Optics,
    cells: usize,
    bins: usize,
    /// Each platelet's transition energy, offset from the mean, eV.
    energy: Vec<f32>,
    bin_energy: wgpu::Buffer,
    /// cells × bins, cm⁻¹: bound by the transport kernel as well.
    pub stim: wgpu::Buffer,
    pub abs: wgpu::Buffer,
    /// The changes of a dispatch, `CHANGES_PER_ROW` a row.
    changes: wgpu::Texture,
    changes_view: wgpu::TextureView,
    /// Changes `changes` holds.
    capacity: usize,
    first: wgpu::Buffer,
    /// The cells of a dispatch.
    dispatched: wgpu::Buffer,
    stim_back: wgpu::Buffer,
    abs_back: wgpu::Buffer,
    pipeline: wgpu::ComputePipeline,
    /// The changes (kept to reuse the allocation).
    list: Vec<CountChange>,
    /// Placeholders bound where the kernel reads the device's counts and energies, and
    /// where it writes the counts held, when the host lists the changes.
    unbound: [wgpu::Buffer; 2],
    /// The platelets' counts on the device, when the spectra follow them there.
    device: Option<DeviceCounts>,
    samples: usize,
}

impl<'g> GpuGain<'g> {
    pub fn new(gpu: &'g Gpu, setup: &AseSetup) -> Result<Self> {
        let cells = setup.grid.cells();
        let bins = setup.spectrum.bins;
        let optics = &setup.optics;
        if optics.degeneracy.max(2) >= NONE {
            return Err(Error::Runtime(format!(
                "the GPU keeps exciton counts below {NONE}; degeneracy {} is too large",
                optics.degeneracy
            )));
        }
        // Each invocation reads every change of its cell for each of its groups of
        // bins; lavapipe runs an invocation's loops only 65535 times in all (a pass can
        // count twice), and then leaves them without a word.
        let passes =
            setup.samples_per_cell * bins.div_ceil(8 * LANES) + setup.samples_per_cell / LANES;
        if gpu.is_software() && passes > SOFTWARE_LOOP_PASSES {
            return Err(Error::Runtime(format!(
                "GPU {}: a software adapter cannot keep the gain spectra of {} sampled platelets a cell in {bins} bins (at most {SOFTWARE_LOOP_PASSES} platelets × groups of {} bins); use fewer platelets per cell, or the CPU backend",
                gpu.info.name,
                setup.samples_per_cell,
                8 * LANES,
            )));
        }
        let rows = changes_rows(setup);
        let most = gpu.limits.max_texture_dimension_2d as usize * CHANGES_PER_ROW;
        if rows * CHANGES_PER_ROW > most {
            return Err(Error::Runtime(format!(
                "GPU {}: the {} sampled platelets of a cell are more than the {most} the device lists at once; use fewer platelets per cell, or the CPU backend",
                gpu.info.name, setup.samples_per_cell,
            )));
        }
        let (changes, changes_view) = gpu.texture(
            "count changes",
            wgpu::TextureFormat::Rg32Uint,
            CHANGES_PER_ROW as u32,
            rows as u32,
        );
        let params = GainParams {
            bins: bins as u32,
            degeneracy: optics.degeneracy,
            inv_hwhm: (1.0 / optics.line.hwhm_ev) as f32,
            biexciton_shift_ev: optics.biexciton_shift_ev as f32,
            scale: Film::gain_scale(setup) as f32,
            samples: setup.samples_per_cell as u32,
            ..GainParams::default()
        };
        let bin_energy: Vec<f32> = setup
            .spectrum
            .energy_ev
            .iter()
            .map(|e| (e - optics.mean_energy_ev) as f32)
            .collect();
        let spectra = 4 * (cells * bins) as u64;
        let gain = Self {
            gpu,
            params,
            optics: *optics,
            cells,
            bins,
            energy: Vec::new(),
            bin_energy: gpu.input("bin energies", 4 * bins as u64),
            stim: gpu.storage("cell stimulated gain", spectra),
            abs: gpu.storage("cell absorption", spectra),
            changes_view,
            changes,
            capacity: rows * CHANGES_PER_ROW,
            first: gpu.input("first change of each cell", 4 * (cells as u64 + 1)),
            dispatched: gpu.input("cells of a dispatch", 4 * cells as u64),
            stim_back: gpu.readback("cell stimulated gain read-back", spectra),
            abs_back: gpu.readback("cell absorption read-back", spectra),
            pipeline: gain_pipeline(gpu, optics, false)?,
            list: Vec::new(),
            unbound: [
                gpu.storage("unbound platelet counts", 4),
                gpu.storage("unbound held counts", 4),
            ],
            device: None,
            samples: setup.samples_per_cell,
        };
        gpu.write(&gain.bin_energy, bytemuck::cast_slice(&bin_energy));
        Ok(gain)
    }

    /// Follow the counts of the platelets kept on the device (`counts` and their
    /// transition energies `energy`, offsets from the mean, cell by cell) from now on:
    /// [`GpuGain::follow`] then finds the changes on the device.
    pub fn attach(&mut self, counts: &wgpu::Buffer, energy: &wgpu::Buffer) -> Result<()> {
        // Each invocation lists a cell's changes a chunk of 8·LANES platelets at a time
        // (two loops of 8) and applies them, for each of its groups of bins, then notes
        // the counts held: on a software adapter, within its loops' limit.
        let s = self.samples;
        let passes =
            self.bins.div_ceil(8 * LANES) * (s + 16 * s.div_ceil(8 * LANES)) + s.div_ceil(LANES);
        if self.gpu.is_software() && passes > SOFTWARE_LOOP_PASSES {
            return Err(Error::Runtime(format!(
                "GPU {}: a software adapter cannot follow the counts of {s} sampled platelets a cell on the device in {} bins; use fewer a cell, or the CPU backend",
                self.gpu.info.name, self.bins,
            )));
        }
        let held = 4 * (self.cells * self.samples) as u64;
        self.device = Some(DeviceCounts {
            counts: counts.clone(),
            energy: energy.clone(),
            held: self.gpu.storage("counts the gain spectra hold", held),
            pipeline: gain_pipeline(self.gpu, &self.optics, true)?,
        });
        Ok(())
    }

    /// Run `pipeline` (the host's lists or the device's counts) on `cells`, a workgroup
    /// each, with `params`.
    fn run_cells(
        &self,
        what: &str,
        pipeline: &wgpu::ComputePipeline,
        cells: &[u32],
        params: GainParams,
    ) -> Result<()> {
        let gpu = self.gpu;
        gpu.write(&self.dispatched, bytemuck::cast_slice(cells));
        let uniform = gpu.uniform(
            "cell gain params",
            &GainParams {
                count: cells.len() as u32,
                ..params
            },
        );
        let (counts, energy, held) = match &self.device {
            Some(d) => (&d.counts, &d.energy, &d.held),
            None => (&self.unbound[0], &self.unbound[0], &self.unbound[1]),
        };
        let dispatch = Dispatch {
            pipeline,
            buffers: &[
                &uniform,
                &self.first,
                &self.bin_energy,
                &self.stim,
                &self.abs,
                &self.dispatched,
                counts,
                energy,
                held,
            ],
            textures: &[&self.changes_view],
            workgroups: gpu.grid(cells.len() as u32),
        };
        gpu.run_then_read(what, &dispatch, &[], |_| ())
    }

    /// Apply the changes listed onto zero spectra, every cell: cell c's are
    /// `list[first[c]..first[c + 1]]`, as many cells at a time as the device holds the
    /// changes of.
    fn apply(&self, what: &str, first: &[u32]) -> Result<()> {
        let gpu = self.gpu;
        gpu.write(&self.first, bytemuck::cast_slice(first));
        let cells: Vec<u32> = (0..self.cells as u32).collect();
        // Where cell c's changes begin in the list (and cell c − 1's end).
        let begin = |c: u32| first[c as usize];
        let mut k0 = 0;
        while k0 < cells.len() {
            // At least one cell; more while their changes fit.
            let start = begin(cells[k0]);
            let mut k1 = k0 + 1;
            while k1 < cells.len() && (begin(cells[k1] + 1) - start) as usize <= self.capacity {
                k1 += 1;
            }
            let end = begin(cells[k1 - 1] + 1);
            let batch = &self.list[start as usize..end as usize];
            gpu.write_rows(&self.changes, bytemuck::cast_slice(batch));
            let params = GainParams {
                first_cell: cells[k0],
                from_zero: 1,
                ..self.params
            };
            self.run_cells(what, &self.pipeline, &cells[k0..k1], params)?;
            k0 = k1;
        }
        Ok(())
    }

    /// Bring the spectra of `cells` (onto zero spectra when `from_zero`) up to the
    /// counts on the device, as many cells at a time as [`MAX_CHANGES`] platelets.
    fn follow_cells(&self, what: &str, cells: &[u32], from_zero: bool) -> Result<()> {
        let Some(device) = &self.device else {
            return Err(Error::Runtime(format!(
                "GPU {}: the gain spectra follow no platelets on the device",
                self.gpu.info.name
            )));
        };
        let params = GainParams {
            from_zero: u32::from(from_zero),
            ..self.params
        };
        for batch in cells.chunks((MAX_CHANGES / self.samples).max(1)) {
            self.run_cells(what, &device.pipeline, batch, params)?;
        }
        Ok(())
    }

    /// Copy the spectra (cells × bins, cm⁻¹) into `stim` and `abs`.
    pub fn read_spectra(&self, stim: &mut [f64], abs: &mut [f64]) -> Result<()> {
        let size = 4 * (self.cells * self.bins) as u64;
        let (s, a): (Vec<f32>, Vec<f32>) = self.gpu.read_pair(
            "reading the cell gain spectra",
            (&self.stim, &self.stim_back),
            (&self.abs, &self.abs_back),
            size,
        )?;
        for (h, d) in stim.iter_mut().zip(&s) {
            *h = f64::from(*d);
        }
        for (h, d) in abs.iter_mut().zip(&a) {
            *h = f64::from(*d);
        }
        Ok(())
    }
}

/// The spectra's life on the device: loaded with a film, following the device's
/// counts, read back for snapshots.
impl GpuGain<'_> {
    /// Take a newly sampled film: its platelets' energies and counts.
    pub fn load(&mut self, setup: &AseSetup, film: &Film) -> Result<()> {
        let mean = setup.optics.mean_energy_ev;
        self.energy = film
            .platelets
            .iter()
            .map(|p| (p.energy_ev - mean) as f32)
            .collect();
        if let Some(d) = &self.device {
            let held: Vec<u32> = film
                .platelets
                .iter()
                .map(|p| self.optics.line_count(p.n))
                .collect();
            self.gpu.write(&d.held, bytemuck::cast_slice(&held));
        }
        self.recompute(film)
    }

    /// Recompute the spectra from every platelet's count in `film`.
    fn recompute(&mut self, film: &Film) -> Result<()> {
        let samples = film.platelets.len() / self.cells;
        let optics = self.optics;
        self.list.clear();
        self.list.extend(
            film.platelets
                .iter()
                .zip(&self.energy)
                .map(|(p, &e)| CountChange::new(e, NONE, optics.line_count(p.n))),
        );
        let first: Vec<u32> = (0..=self.cells).map(|c| (c * samples) as u32).collect();
        self.apply("cell gain spectra", &first)
    }

    /// Bring the spectra of `cells` (those whose counts may have changed since) up to
    /// the device's counts.
    pub fn follow(&mut self, cells: &[u32]) -> Result<()> {
        if cells.is_empty() {
            return Ok(());
        }
        self.follow_cells("cell gain following the device's counts", cells, false)
    }

    /// Recompute the spectra from every count on the device.
    pub fn recompute_on_device(&mut self) -> Result<()> {
        if let Some(d) = &self.device {
            let none = vec![NONE; self.cells * self.samples];
            self.gpu.write(&d.held, bytemuck::cast_slice(&none));
        }
        let all: Vec<u32> = (0..self.cells as u32).collect();
        self.follow_cells("cell gain spectra from the device's counts", &all, true)
    }

    /// Copy the spectra into the film's `stim` and `abs`.
    pub fn read(&mut self, film: &mut Film) -> Result<()> {
        self.read_spectra(&mut film.stim, &mut film.abs)
    }
}

/// The `cell_gain.wgsl` pipeline for `optics`, taking its changes from the device's
/// counts when `from_device`.
fn gain_pipeline(gpu: &Gpu, optics: &Optics, from_device: bool) -> Result<wgpu::ComputePipeline> {
    let gaussian = optics.line.shape == LineShape::Gaussian;
    gpu.pipeline_with(
        "cell_gain",
        "cell_gain",
        &[
            ("GAUSSIAN", f64::from(u8::from(gaussian))),
            ("FROM_DEVICE", f64::from(u8::from(from_device))),
        ],
    )
}
