//! The command line: argument definitions and what each subcommand does.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use crate::analysis::{self, Analysis, FitOptions};
use crate::backend::{Backend, BackendChoice, CpuBackend, work_units};
use crate::config::Shard;
use crate::config::SourceKind;
use crate::config::{self, Resolved};
use crate::error::{Error, Result};
use crate::modes::{Polarization, Slab};
use crate::output::{self, OutputReader, PointRecord};
use crate::plot::{self, PlotOptions};
use crate::runner::{self, RunOptions};
use crate::slurm::{self, Resources, SlurmOptions};
use crate::units::PS_PER_FS;

/// Monte Carlo simulation of amplified spontaneous emission in nanoplatelet films.
#[derive(Debug, Parser)]
#[command(name = "asemc", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options that change the config before it is checked.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The TOML config file.
    pub config: PathBuf,
    /// Override a config key, e.g. --set film.thickness_nm=150 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Override run.seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl ConfigArgs {
    /// The `--set` overrides with `--seed` as one of them.
    fn overrides(&self) -> Vec<String> {
        let mut overrides = self.set.clone();
        if let Some(seed) = self.seed {
            overrides.push(format!("run.seed={seed}"));
        }
        overrides
    }

    fn load(&self) -> Result<Resolved> {
        config::load(&self.config, &self.overrides())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every point of a config and write the results to an HDF5 file.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output file (HDF5).
        #[arg(short, long, value_name = "OUT.h5")]
        output: PathBuf,
        /// Where to run: auto (GPU if any adapter exists, else CPU), cpu or gpu.
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendChoice,
        /// CPU threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar or log lines.
        #[arg(short, long)]
        quiet: bool,
        /// Continue an interrupted run: keep the points already in OUT.h5.partial and
        /// run the rest (the config and overrides must be the same).
        #[arg(long)]
        resume: bool,
        /// Run shard K of N (K from 0): sweep points K, K+N, K+2N, … with the seeds they
        /// have in the whole sweep; `asemc merge` joins the shards.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
    },
    /// Write Slurm batch scripts for a sharded run: a job array with one shard per task,
    /// and a merge job that runs once the whole array succeeded.
    Slurm {
        #[command(flatten)]
        config: ConfigArgs,
        /// Array tasks (shards); at most the number of sweep points.
        #[arg(long)]
        tasks: usize,
        /// The merged output file (HDF5).
        #[arg(short, long, value_name = "OUT.h5")]
        output: PathBuf,
        /// Directory for the scripts, shard files (parts/) and logs (logs/)
        /// [default: OUT_slurm beside OUT.h5].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(flatten)]
        resources: Resources,
        /// Backend of the shard runs.
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendChoice,
        /// Submit both jobs with sbatch and print their ids.
        #[arg(long)]
        submit: bool,
    },
    /// Join the shard files of a run (`run --shard K/N`) into one file equal to the
    /// unsharded run.
    Merge {
        /// The shard files, in any order.
        #[arg(required = true, value_name = "PART.h5")]
        parts: Vec<PathBuf>,
        /// Output file (HDF5).
        #[arg(short, long, value_name = "OUT.h5")]
        output: PathBuf,
        /// Write the points there are even if some are missing.
        #[arg(long)]
        allow_partial: bool,
    },
    /// Check a config: print it resolved, with the sweep plan and a cost estimate.
    Check {
        #[command(flatten)]
        config: ConfigArgs,
        /// CPU threads for the cost estimate (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Print the results of an output file.
    Summary {
        /// An output file of `asemc run`.
        file: PathBuf,
        /// Print JSON: {"points": [{...}, ...]}.
        #[arg(long)]
        json: bool,
    },
    /// Fit the ASE threshold (fluence sweep) or the net modal gain (stripe-length sweep).
    Fit {
        /// An output file of `asemc run` with a sweep over pump.fluence_uj_cm2 or
        /// pump.stripe_length_um.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Shortest stripe length used by the gain fit, µm.
        #[arg(long, value_name = "UM", allow_negative_numbers = true)]
        min_length_um: Option<f64>,
        /// Longest stripe length used by the gain fit, µm (below gain saturation).
        #[arg(long, value_name = "UM", allow_negative_numbers = true)]
        max_length_um: Option<f64>,
    },
    /// Draw the figures of an output file (PNG and SVG): light-in/light-out with the
    /// threshold, the VSL curve with its fit, the edge spectra, populations and gain.
    Plot {
        /// An output file of `asemc run`.
        file: PathBuf,
        /// Directory for the figures (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Point whose populations and gain evolution are drawn (default: the last).
        #[arg(long, value_name = "INDEX")]
        point: Option<usize>,
        /// Shortest stripe length used by the gain fit, µm.
        #[arg(long, value_name = "UM", allow_negative_numbers = true)]
        min_length_um: Option<f64>,
        /// Longest stripe length used by the gain fit, µm.
        #[arg(long, value_name = "UM", allow_negative_numbers = true)]
        max_length_um: Option<f64>,
    },
    /// List the GPU adapters wgpu finds (WGPU_BACKEND and WGPU_ADAPTER_NAME apply).
    Devices {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Guided modes of a cover/film/substrate slab waveguide.
    Modes {
        #[arg(long)]
        n_film: f64,
        #[arg(long)]
        n_substrate: f64,
        #[arg(long, default_value_t = 1.0)]
        n_cover: f64,
        #[arg(long)]
        thickness_nm: f64,
        #[arg(long)]
        wavelength_nm: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            config,
            output,
            backend,
            threads,
            quiet,
            resume,
            shard,
        } => {
            let resolved = config.load()?;
            runner::run(
                &resolved,
                &RunOptions {
                    output,
                    backend,
                    threads,
                    quiet,
                    resume,
                    shard,
                },
            )?;
            Ok(())
        }
        Command::Slurm {
            config,
            tasks,
            output,
            dir,
            resources,
            backend,
            submit,
        } => {
            let resolved = config.load()?;
            let points = resolved.plan.len();
            if tasks == 0 || tasks > points {
                return Err(Error::Usage(format!(
                    "--tasks {tasks}: {} has {points} sweep point(s); use 1 to {points} tasks",
                    config.config.display()
                )));
            }
            output::check_output_path(&output)?;
            let dir = dir.unwrap_or_else(|| {
                let mut d = output.with_extension("").into_os_string();
                d.push("_slurm");
                PathBuf::from(d)
            });
            let opts = SlurmOptions {
                config: config.config.clone(),
                overrides: config.overrides(),
                output,
                tasks,
                dir,
                resources,
                backend: backend
                    .to_possible_value()
                    .map_or("auto".into(), |v| v.get_name().to_string()),
            };
            let jobs = slurm::write_scripts(&opts, submit)?;
            let mut out = format!(
                "{} points in {tasks} shards\nwrote {}\nwrote {}\n",
                points,
                jobs.array_script.display(),
                jobs.merge_script.display()
            );
            match &jobs.submitted {
                Some((array, merge)) => {
                    writeln!(out, "submitted array job {array} ({tasks} tasks)").ok();
                    writeln!(
                        out,
                        "submitted merge job {merge} (runs after every task of {array} succeeded)"
                    )
                    .ok();
                }
                None => {
                    writeln!(
                        out,
                        "submit with:\n  id=$(sbatch --parsable {})\n  sbatch --dependency=afterok:$id {}",
                        jobs.array_script.display(),
                        jobs.merge_script.display()
                    )
                    .ok();
                }
            }
            emit(&out)
        }
        Command::Merge {
            parts,
            output,
            allow_partial,
        } => {
            let report = output::merge(&parts, &output, allow_partial)?;
            let mut out = format!(
                "wrote {}: {} of {} points from {} file(s)\n",
                report.output.display(),
                report.points,
                report.points_total,
                parts.len()
            );
            if !report.missing.is_empty() {
                writeln!(
                    out,
                    "missing (--allow-partial): {} point(s)",
                    report.missing.len()
                )
                .ok();
            }
            emit(&out)
        }
        Command::Check { config, threads } => check(&config.load()?, threads),
        Command::Summary { file, json } => summary(&file, json),
        Command::Fit {
            file,
            json,
            min_length_um,
            max_length_um,
        } => fit(
            &file,
            json,
            &FitOptions {
                min_length_um,
                max_length_um,
            },
        ),
        Command::Plot {
            file,
            output,
            point,
            min_length_um,
            max_length_um,
        } => {
            let fit = FitOptions {
                min_length_um,
                max_length_um,
            };
            check_fit_options(&fit)?;
            let report = plot::plot(&file, &output, &PlotOptions { point, fit })?;
            for note in &report.notes {
                eprintln!("asemc: {note}");
            }
            let mut out = String::new();
            for path in report.files {
                writeln!(out, "{}", path.display()).ok();
            }
            emit(&out)
        }
        Command::Devices { json } => devices(json),
        Command::Modes {
            n_film,
            n_substrate,
            n_cover,
            thickness_nm,
            wavelength_nm,
            json,
        } => modes(
            Slab {
                n_film,
                n_substrate,
                n_cover,
                thickness_nm,
                wavelength_nm,
            },
            json,
        ),
    }
}

/// Packets run to measure the rate for the cost estimate.
const CALIBRATION_PHOTONS: u64 = 20_000;
/// Time steps run to measure the rate of a pump-source point.
const CALIBRATION_STEPS: f64 = 50.0;

fn check(resolved: &Resolved, threads: Option<usize>) -> Result<()> {
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
    // Measure the rate on a short run of the first point.
    let cpu = CpuBackend::new(threads)?;
    let mut sample = resolved.points[0].clone();
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
                most = most.max(crate::gpu::ase::memory_needed(&gpu, &setup));
            }
            writeln!(
                out,
                "# gpu {}: the ASE photon transport and the cells' gain spectra need at most {:.1} MiB of device memory per point (dispatches of up to {} packets; one storage binding holds {:.0} MiB); the platelets stay in host memory",
                gpu.describe(),
                mib(most),
                crate::gpu::ase::max_dispatch(&gpu.limits),
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

/// A point's index and swept values, the start of its JSON object.
fn point_identity(p: &PointRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("index".into(), json!(p.index));
    for (k, v) in &p.params {
        m.insert(k.clone(), json!(v));
    }
    m
}

fn summary(file: &Path, as_json: bool) -> Result<()> {
    let mut out = String::new();
    let reader = OutputReader::open(file)?;
    let points = reader.points()?;
    if as_json {
        let list: Vec<Value> = points
            .iter()
            .map(|p| {
                let mut m = point_identity(p);
                m.insert("seed".into(), json!(p.seed));
                m.insert("photons".into(), json!(p.photons));
                m.insert("photon_steps".into(), json!(p.photon_steps));
                m.insert("wall_time_s".into(), json!(p.wall_time_s));
                for (k, v) in &p.scalars {
                    m.insert(k.clone(), json!(v));
                }
                Value::Object(m)
            })
            .collect();
        let mut v = json!({ "points": list });
        if let Ok(a) = analyse(&reader, file, &points, &FitOptions::default()) {
            v["fit"] = a.to_json();
        }
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    writeln!(out, "{}: {} point(s)", file.display(), points.len()).ok();
    for p in &points {
        let params: Vec<String> = p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        writeln!(
            out,
            "point {}{}",
            p.index,
            if params.is_empty() {
                String::new()
            } else {
                format!(": {}", params.join(", "))
            }
        )
        .ok();
        for (k, v) in &p.scalars {
            if k.ends_with("_stderr") {
                continue;
            }
            let err = p
                .scalars
                .iter()
                .find(|(n, _)| *n == format!("{k}_stderr"))
                .map(|(_, e)| format!(" ± {e:.6}"))
                .unwrap_or_default();
            writeln!(out, "  {k:<24} {v:.6}{err}").ok();
        }
    }
    if let Ok(a) = analyse(&reader, file, &points, &FitOptions::default()) {
        out += &a.to_text();
    }
    emit(&out)
}

/// The fits a file's `points` allow, or why none applies.
fn analyse(
    reader: &OutputReader,
    file: &Path,
    points: &[PointRecord],
    opts: &FitOptions,
) -> Result<Analysis> {
    let seed = reader.root_u64("seed").unwrap_or(0);
    analysis::analyse(points, &reader.swept_keys, opts, seed).map_err(|message| Error::Input {
        path: file.to_path_buf(),
        message,
    })
}

/// The stripe-length range of the gain fit must be lengths.
fn check_fit_options(opts: &FitOptions) -> Result<()> {
    for (name, v) in [
        ("--min-length-um", opts.min_length_um),
        ("--max-length-um", opts.max_length_um),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(Error::Usage(format!("{name} {v}: must be a length ≥ 0")));
        }
    }
    Ok(())
}

fn fit(file: &Path, as_json: bool, opts: &FitOptions) -> Result<()> {
    check_fit_options(opts)?;
    let reader = OutputReader::open(file)?;
    let points = reader.points()?;
    let analysis = analyse(&reader, file, &points, opts)?;
    let per_point: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut m = point_identity(p);
            for name in ["edge_photons", "edge_peak_nm", "edge_fwhm_nm"] {
                let v = p.scalars.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
                m.insert(name.into(), json!(v));
            }
            Value::Object(m)
        })
        .collect();
    let mut out = String::new();
    if as_json {
        let mut v = analysis.to_json();
        v["points"] = Value::Array(per_point);
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
    } else {
        out += &analysis.to_text();
        writeln!(out, "point\tedge photons\tpeak nm\tFWHM nm").ok();
        for p in &per_point {
            let f = |k: &str| p[k].as_f64().map_or("-".to_string(), |v| format!("{v:.4}"));
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                p["index"],
                p["edge_photons"]
                    .as_f64()
                    .map_or("-".into(), |v| format!("{v:.4e}")),
                f("edge_peak_nm"),
                f("edge_fwhm_nm")
            )
            .ok();
        }
    }
    emit(&out)
}

fn devices(as_json: bool) -> Result<()> {
    let adapters = crate::gpu::adapters();
    let mut out = String::new();
    if as_json {
        let list: Vec<Value> = adapters
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "backend": a.backend,
                    "device_type": a.device_type,
                    "driver": a.driver,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&json!({ "adapters": list }))
            .map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    if adapters.is_empty() {
        writeln!(
            out,
            "no GPU adapter found; runs use the CPU (on Debian, mesa-vulkan-drivers provides lavapipe)"
        )
        .ok();
    }
    for (i, a) in adapters.iter().enumerate() {
        writeln!(
            out,
            "{i}: {} (backend {}, type {}, driver {})",
            a.name, a.backend, a.device_type, a.driver
        )
        .ok();
    }
    emit(&out)
}

fn modes(slab: Slab, as_json: bool) -> Result<()> {
    let mut out = String::new();
    for (name, v) in [
        ("--n-film", slab.n_film),
        ("--n-substrate", slab.n_substrate),
        ("--n-cover", slab.n_cover),
    ] {
        if !(v.is_finite() && v >= 1.0) {
            return Err(Error::Usage(format!(
                "{name} {v}: a refractive index must be ≥ 1"
            )));
        }
    }
    for (name, v) in [
        ("--thickness-nm", slab.thickness_nm),
        ("--wavelength-nm", slab.wavelength_nm),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::Usage(format!("{name} {v}: must be > 0")));
        }
    }
    let modes = slab.modes();
    let cutoffs: Map<String, Value> = [
        (Polarization::TE, 0),
        (Polarization::TM, 0),
        (Polarization::TE, 1),
        (Polarization::TM, 1),
    ]
    .into_iter()
    .map(|(p, m)| (format!("{p:?}{m}"), json!(slab.cutoff_thickness_nm(p, m))))
    .collect();
    if as_json {
        let text = serde_json::to_string_pretty(&json!({
            "modes": modes,
            "cutoff_thickness_nm": cutoffs,
        }))
        .map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    writeln!(
        out,
        "slab: film n = {} ({} nm) on n = {} under n = {}, λ = {} nm",
        slab.n_film, slab.thickness_nm, slab.n_substrate, slab.n_cover, slab.wavelength_nm
    )
    .ok();
    if modes.is_empty() {
        writeln!(out, "no guided modes").ok();
    }
    for m in &modes {
        writeln!(
            out,
            "  {:?}{}  n_eff = {:.5}  Γ_E = {:.4}  Γ' = {:.4}",
            m.polarization, m.order, m.n_eff, m.confinement_factor, m.modal_gain_factor
        )
        .ok();
    }
    for (k, v) in &cutoffs {
        match v.as_f64() {
            Some(h) => writeln!(out, "  cut-off {k}: {h:.1} nm").ok(),
            None => writeln!(
                out,
                "  cut-off {k}: none (film index not above both claddings)"
            )
            .ok(),
        };
    }
    emit(&out)
}

/// Print a command's output; a closed pipe (`asemc summary … | head`) is not an error.
fn emit(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Runtime(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}
