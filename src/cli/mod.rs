//! The command line: argument definitions and what each subcommand does.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::analysis::FitOptions;
use crate::backend::BackendChoice;
use crate::config::{self, Resolved};
use crate::error::{Error, Result};
use crate::runner::RunOptions;
use crate::slurm::Resources;

mod analysis;
mod check;
mod devices;
mod merge;
mod modes;
mod run;
mod slurm;

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
        #[command(flatten)]
        options: RunOptions,
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
        /// Merge shards written by different builds of asemc (the merged file records
        /// each shard's build).
        #[arg(long)]
        allow_build_mismatch: bool,
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
    /// List the GPU adapters wgpu finds (WGPU_BACKEND applies; WGPU_ADAPTER_NAME picks among them for run).
    Devices {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Guided modes of a cover/film/substrate slab waveguide.
    Modes {
        #[command(flatten)]
        slab: modes::SlabArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run { config, options } => run::run(config, &options),
        Command::Slurm {
            config,
            tasks,
            output,
            dir,
            resources,
            backend,
            submit,
        } => slurm::slurm(config, tasks, output, dir, resources, backend, submit),
        Command::Merge {
            parts,
            output,
            allow_partial,
            allow_build_mismatch,
        } => merge::merge(
            parts,
            output,
            crate::output::Allow {
                partial: allow_partial,
                build_mismatch: allow_build_mismatch,
            },
        ),
        Command::Check { config, threads } => check::check(&config.load()?, threads),
        Command::Summary { file, json } => analysis::summary(&file, json),
        Command::Fit {
            file,
            json,
            min_length_um,
            max_length_um,
        } => analysis::fit(
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
        } => analysis::plot(file, output, point, min_length_um, max_length_um),
        Command::Devices { json } => devices::devices(json),
        Command::Modes { slab, json } => modes::modes(&slab, json),
    }
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
