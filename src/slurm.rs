//! `asemc slurm`: batch scripts for a Slurm job array that runs one shard of a sweep
//! per array task, and a merge job that joins the shards once every task succeeded.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// What each array task asks Slurm for.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Resources {
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of each task, in Slurm's format (e.g. 2:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// CPU cores per task (the shard runs that many threads).
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
    /// GPUs per task.
    #[arg(long)]
    pub gpus_per_task: Option<usize>,
    /// Memory per task, in Slurm's format (e.g. 4G).
    #[arg(long)]
    pub mem: Option<String>,
    /// Slurm account to charge.
    #[arg(long)]
    pub account: Option<String>,
}

/// What the generated scripts run and ask Slurm for.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// The config file and the `--set` overrides, as given to `asemc run`.
    pub config: PathBuf,
    pub overrides: Vec<String>,
    /// The merged output file.
    pub output: PathBuf,
    /// Array tasks, one shard each.
    pub tasks: usize,
    /// Where the scripts, shard files and logs go.
    pub dir: PathBuf,
    pub resources: Resources,
    /// `--backend` of the shard runs.
    pub backend: String,
}

/// The scripts written, and the job ids when submitted.
#[derive(Debug, Clone)]
pub struct SlurmJobs {
    pub array_script: PathBuf,
    pub merge_script: PathBuf,
    pub parts: Vec<PathBuf>,
    pub submitted: Option<(String, String)>,
}

/// Quote `s` for a POSIX shell.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|source| Error::Io {
        path: p.to_path_buf(),
        source,
    })
}

/// The shard file of array task `k`.
pub fn part_path(dir: &Path, k: usize) -> PathBuf {
    dir.join("parts").join(format!("part_{k}.h5"))
}

/// Write `array.sbatch` and `merge.sbatch` into `opts.dir` (with `parts/` and `logs/`
/// beside them); with `submit`, submit both, the merge depending on the array's success.
pub fn write_scripts(opts: &SlurmOptions, submit: bool) -> Result<SlurmJobs> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Runtime(format!("cannot find the asemc binary: {e}")))?;
    let config = absolute(&opts.config)?;
    let output = absolute(&opts.output)?;
    let dir = absolute(&opts.dir)?;
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: ".".into(),
        source,
    })?;
    for sub in ["parts", "logs"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|source| Error::Io {
            path: dir.join(sub),
            source,
        })?;
    }
    let name = output
        .file_stem()
        .map_or("asemc".into(), |s| s.to_string_lossy().to_string());
    let n = opts.tasks;

    let exe = quote(&exe.display().to_string());
    let run = shard_command(opts, &config, n);
    let mut array = sbatch_header(opts, &name, &cwd, &dir, "", "array_%A_%a.out", true);
    write!(
        array,
        "\n# Written by `asemc slurm`: one shard of the sweep in {config} per array task.\n\
         # A task that failed can be run again alone, and continues its shard:\n\
         #   sbatch --array=K {script}\n\
         set -euo pipefail\n\
         ASEMC={exe}\n\
         PARTS={parts}\n\
         K=\"$SLURM_ARRAY_TASK_ID\"\n\
         {cmd}\n",
        config = config.display(),
        script = dir.join("array.sbatch").display(),
        parts = quote(&dir.join("parts").display().to_string()),
        cmd = run.join(" "),
    )
    .ok();

    let parts: Vec<PathBuf> = (0..n).map(|k| part_path(&dir, k)).collect();
    let mut merge = sbatch_header(opts, &name, &cwd, &dir, "-merge", "merge_%j.out", false);
    let cmd = merge_command(&parts, &output);
    write!(
        merge,
        "\n# Written by `asemc slurm`: join the {n} shard files into {output}.\n\
         set -euo pipefail\n\
         ASEMC={exe}\n\
         {cmd}\n",
        output = output.display(),
    )
    .ok();

    let array_script = dir.join("array.sbatch");
    let merge_script = dir.join("merge.sbatch");
    for (path, text) in [(&array_script, &array), (&merge_script, &merge)] {
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    let submitted = if submit {
        let array_id = sbatch(&[], &array_script)?;
        let merge_id = sbatch(&[format!("--dependency=afterok:{array_id}")], &merge_script)?;
        Some((array_id, merge_id))
    } else {
        None
    };
    Ok(SlurmJobs {
        array_script,
        merge_script,
        parts,
        submitted,
    })
}

/// The `#SBATCH` header of a script; `array` adds the task range and the per-task resources.
fn sbatch_header(
    opts: &SlurmOptions,
    name: &str,
    cwd: &Path,
    dir: &Path,
    job: &str,
    log: &str,
    array: bool,
) -> String {
    let mut h = String::from("#!/bin/bash\n");
    let mut line = |k: &str, v: &str| writeln!(h, "#SBATCH --{k}={v}").ok();
    line("job-name", &format!("asemc-{name}{job}"));
    if array {
        line("array", &format!("0-{}", opts.tasks - 1));
    }
    line("ntasks", "1");
    line("chdir", &cwd.display().to_string());
    line("output", &dir.join("logs").join(log).display().to_string());
    if let Some(p) = &opts.resources.partition {
        line("partition", p);
    }
    if let Some(a) = &opts.resources.account {
        line("account", a);
    }
    if let Some(t) = &opts.resources.time {
        line("time", t);
    }
    if array {
        if let Some(c) = opts.resources.cpus_per_task {
            line("cpus-per-task", &c.to_string());
        }
        if let Some(g) = opts.resources.gpus_per_task {
            line("gpus-per-task", &g.to_string());
        }
        if let Some(m) = &opts.resources.mem {
            line("mem", m);
        }
    }
    h
}

/// The `asemc run` command of an array task: shard `$K` of `n`, into `$PARTS`, resumable.
fn shard_command(opts: &SlurmOptions, config: &Path, n: usize) -> Vec<String> {
    let mut run = vec![
        "\"$ASEMC\"".to_string(),
        "run".into(),
        quote(&config.display().to_string()),
    ];
    for s in &opts.overrides {
        run.push("--set".into());
        run.push(quote(s));
    }
    run.extend([
        "--shard".into(),
        format!("\"$K/{n}\""),
        "-o".into(),
        "\"$PARTS/part_$K.h5\"".into(),
        "--resume".into(),
        "--backend".into(),
        quote(&opts.backend),
        "--threads".into(),
        "\"${SLURM_CPUS_PER_TASK:-1}\"".into(),
    ]);
    run
}

/// The `asemc merge` command joining the shard files `parts` into `output`.
fn merge_command(parts: &[PathBuf], output: &Path) -> String {
    let mut cmd = String::from("\"$ASEMC\" merge \\\n");
    for p in parts {
        writeln!(cmd, "    {} \\", quote(&p.display().to_string())).ok();
    }
    write!(cmd, "    -o {}", quote(&output.display().to_string())).ok();
    cmd
}

/// Submit `script` with `sbatch --parsable`; returns the job id.
fn sbatch(args: &[String], script: &Path) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|e| Error::Runtime(format!("cannot run sbatch ({e}); is Slurm installed here? The scripts are written: submit {} yourself", script.display())))?;
    if !out.status.success() {
        return Err(Error::Runtime(format!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // "jobid" or "jobid;cluster".
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        return Err(Error::Runtime(format!(
            "sbatch {} printed no job id",
            script.display()
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn shell_quoting_keeps_words_plain_and_wraps_the_rest() {
        assert_eq!(quote("run.seed=4"), "run.seed=4");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(
            quote(r#"sweep.axes=[{key="x", values=[1]}]"#),
            r#"'sweep.axes=[{key="x", values=[1]}]'"#
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
