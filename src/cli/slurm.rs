//! `asemc slurm`: the batch scripts of a sharded run, a job array and the merge job after
//! it, written and, on request, submitted.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::output;
use crate::slurm::{self, Resources, SlurmOptions};

use super::{ConfigArgs, emit};

/// Write the scripts of a run of `config` in `tasks` shards, and submit them if asked.
pub(super) fn slurm(
    config: ConfigArgs,
    tasks: usize,
    output: PathBuf,
    dir: Option<PathBuf>,
    resources: Resources,
    backend: BackendChoice,
    submit: bool,
) -> Result<()> {
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
