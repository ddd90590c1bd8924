//! `asemc check`: a config printed resolved, with its sweep plan, the guided modes of
//! its film at the platelets' emission peak, a cost estimate measured on a short run,
//! and the device memory a GPU run would need.

use std::fmt::Write as _;

use crate::backend::{Backend, CpuBackend, work_units};
use crate::config::{Config, Resolved, SourceKind};
use crate::error::Result;
use crate::modes::Slab;
use crate::units::PS_PER_FS;

use super::emit;

/// Packets run to measure the rate for the cost estimate.
const CALIBRATION_PHOTONS: u64 = 20_000;
/// Time steps run to measure the rate of a pump-source point.
const CALIBRATION_STEPS: f64 = 50.0;

pub(super) fn check(resolved: &Resolved, threads: Option<usize>) -> Result<()> {
    let mut out = String::new();
    writeln!(out, "# {} (resolved)", resolved.path.display()).ok();
    writeln!(out, "{}", resolved.to_toml()).ok();
    let plan = &resolved.plan;
    let pump = resolved.base.source.kind == SourceKind::Pump;
    let unit = if pump { "time steps" } else { "photon packets" };
    writeln!(out, "# sweep plan: {} point(s)", plan.len()).ok();
    let header: Vec<String> = std::iter::once("point".to_string())
        .chain(plan.keys.iter().cloned())
        .chain(std::iter::once(
            if pump { "steps" } else { "photons" }.to_string(),
        ))
        .collect();
    writeln!(out, "{}", header.join("\t")).ok();
    for (i, c) in resolved.points.iter().enumerate() {
        let row: Vec<String> = std::iter::once(i.to_string())
            .chain(plan.points[i].iter().map(|v| format!("{v}")))
            .chain(std::iter::once(work_units(c).to_string()))
            .collect();
        writeln!(out, "{}", row.join("\t")).ok();
    }
    let total: u64 = resolved.points.iter().map(work_units).sum();
    if pump {
        let r = &resolved.base.run;
        writeln!(
            out,
            "# steps: {} time steps a replica × {} replicas a point{}",
            r.steps(),
            r.replicas,
            if r.target_relative_error.is_some() {
                format!(
                    " to start with (run.target_relative_error adds up to {} replicas)",
                    r.max_replicas
                )
            } else {
                String::new()
            }
        )
        .ok();
    }
    if pump {
        out.push_str(&film_modes(&resolved.base));
    }
    // Measure the rate on a short run of the first point.
    let cpu = CpuBackend::new(threads)?;
    let mut sample = resolved.points[0].clone();
    // The rate of the replicas as configured (a precision-driven point's count is not
    // known beforehand).
    sample.run.target_relative_error = None;
    sample.source.photons = sample.source.photons.min(CALIBRATION_PHOTONS);
    sample.run.duration_ps = sample
        .run
        .duration_ps
        .min(CALIBRATION_STEPS * sample.run.time_step_fs * PS_PER_FS);
    let start = std::time::Instant::now();
    cpu.run_point(&sample, 0, &|_| {})?;
    let rate = work_units(&sample) as f64 / start.elapsed().as_secs_f64().max(1e-9);
    writeln!(
        out,
        "# cost: {total} {unit} in all; {rate:.3e} {unit}/s measured on point 0 (cpu, {}); about {:.1} s{}",
        cpu.adapter(),
        total as f64 / rate,
        if pump { " (more where saturation shortens the steps)" } else { "" }
    )
    .ok();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    match crate::gpu::Gpu::open() {
        Ok(Some(gpu)) if pump => {
            let mut most = 0;
            for c in &resolved.points {
                let setup = crate::ase::AseSetup::from_config(c)?;
                most = most.max(crate::gpu::ase_transport::memory_needed(&gpu, &setup));
            }
            writeln!(
                out,
                "# gpu {}: the ASE engine (the platelets, the cells' gain spectra, the tallies and the photon transport) needs at most {:.1} MiB of device memory per point (dispatches of up to {} packets; one storage binding holds {:.0} MiB)",
                gpu.describe(),
                mib(most),
                crate::gpu::ase_transport::max_dispatch(&gpu.limits),
                mib(gpu.limits.max_storage_buffer_binding_size)
            )
            .ok();
        }
        Ok(Some(gpu)) => {
            let photons = resolved
                .points
                .iter()
                .map(|c| c.source.photons)
                .max()
                .unwrap_or(0);
            writeln!(
                out,
                "# gpu {}: the transport needs {:.1} MiB of device memory per point (batches of up to {} packets; one storage binding holds {:.0} MiB)",
                gpu.describe(),
                mib(crate::gpu::transport::memory_needed(&gpu.limits, photons)),
                crate::gpu::transport::max_batch(&gpu.limits),
                mib(gpu.limits.max_storage_buffer_binding_size)
            )
            .ok();
        }
        Ok(None) => {
            writeln!(out, "# gpu: no adapter found; the run uses the CPU").ok();
        }
        Err(e) => {
            writeln!(out, "# gpu: {e}").ok();
        }
    }
    emit(&out)
}

/// The guided modes of `c`'s film at the platelets' emission peak, as `asemc modes`
/// gives them (the ray model does not use them; they say what the film guides).
fn film_modes(c: &Config) -> String {
    let slab = Slab::new(
        c.film.refractive_index,
        c.substrate.refractive_index,
        c.cover.refractive_index,
        c.film.thickness_nm,
        c.platelets.emission_peak_nm,
    );
    let modes = slab.modes();
    let mut out = format!(
        "# guided modes of the film ({} nm, n = {}) at the emission peak, {} nm (asemc modes; the ray model follows rays, not these modes):{}\n",
        c.film.thickness_nm,
        c.film.refractive_index,
        c.platelets.emission_peak_nm,
        if modes.is_empty() { " none" } else { "" }
    );
    for m in &modes {
        writeln!(
            out,
            "#   {:?}{}  n_eff = {:.5}  n_g = {:.5}  Γ' = {:.4} (isotropic)  Γ'∥ = {:.4} (in-plane dipoles)",
            m.polarization,
            m.order,
            m.n_eff,
            m.group_index,
            m.modal_gain_factor,
            m.modal_gain_factor_in_plane
        )
        .ok();
    }
    out
}
