//! The sweep runner: runs every point of a resolved config on a backend, shows
//! progress, and writes each finished point to the output file at once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{Backend, BackendChoice, select, work_units};
use crate::config::{Resolved, Shard, describe_shard};
use crate::error::{Error, Result};
use crate::output::{self, OutputFile, OutputReader, RunMetadata, partial_path};
use crate::result::PointResult;

/// What Ctrl-C finds the run doing.
enum Writing {
    /// Running: the partial run's directory and the run's point count.
    Partial(PathBuf, usize),
    /// Written to this file: nothing is left to lose.
    Finished(PathBuf),
}

/// Held while a point is written or the run's file assembled, so Ctrl-C never cuts a
/// write short (a kill may: every write is committed by one rename, see
/// [`crate::output::OutputFile`]).
static WRITING: Mutex<Option<Writing>> = Mutex::new(None);
/// Points complete in the partial run.
static POINTS_DONE: AtomicUsize = AtomicUsize::new(0);
static INTERRUPT: Once = Once::new();
/// Set by Ctrl-C: a write in progress ends, and the run stops after it.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Say where the run stands and exit with status 130 (Ctrl-C).
fn exit_interrupted(state: Option<&Writing>) -> ! {
    match state {
        Some(Writing::Partial(partial, total)) => eprintln!(
            "\nasemc: interrupted; {} of {total} points are in {}; run the same command with --resume to continue",
            POINTS_DONE.load(Ordering::SeqCst),
            partial.display()
        ),
        Some(Writing::Finished(dest)) => eprintln!(
            "\nasemc: interrupted after the run was written to {}",
            dest.display()
        ),
        None => {}
    }
    std::process::exit(130);
}

/// After a write: stop here if Ctrl-C came during it.
fn stop_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        let state = WRITING.lock();
        exit_interrupted(state.as_ref().ok().and_then(|s| s.as_ref()));
    }
}

/// On Ctrl-C: say where the finished points are and how to continue, and exit with
/// status 130, at once if no write is in progress, else as soon as the write ends
/// (the writer sees the flag). Every point is committed as it finishes, so the partial
/// run holds every finished point.
fn handle_interrupt(partial: PathBuf, points_total: usize) {
    if let Ok(mut run) = WRITING.lock() {
        *run = Some(Writing::Partial(partial, points_total));
    }
    INTERRUPT.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            // No write in progress: stop now, holding the lock so that none starts.
            if let Ok(state) = WRITING.try_lock() {
                exit_interrupted(state.as_ref());
            }
        });
    });
}

/// With `--resume`, a finished file of the same config (and shard) needs no work; a
/// partial run left beside it (its removal cut short) is removed. A finished file of
/// another config is refused, unless a partial run beside it is to be resumed.
fn already_finished(dest: &Path, meta: &RunMetadata) -> Result<bool> {
    if !dest.exists() {
        return Ok(false);
    }
    let partial = partial_path(dest).exists();
    let reader = OutputReader::open(dest)?;
    let (config, shard) = (reader.root_str("config_toml")?, reader.shard()?);
    if (config != meta.config_toml || shard != meta.shard) && partial {
        return Ok(false);
    }
    if config != meta.config_toml {
        return Err(Error::Input {
            path: dest.to_path_buf(),
            message: "exists and was written by a different config (or other --set/--seed values); choose another -o or remove it".into(),
        });
    }
    if shard != meta.shard {
        return Err(Error::Input {
            path: dest.to_path_buf(),
            message: format!(
                "exists and holds {}, not {}; choose another -o or remove it",
                describe_shard(shard),
                describe_shard(meta.shard)
            ),
        });
    }
    let finished = reader.indices().len() == meta.points_expected();
    if finished && partial {
        drop(reader);
        output::discard_partial(dest)?;
    }
    Ok(finished)
}

/// How to run: the options of `asemc run` (their docs are its help).
#[derive(Debug, Clone, clap::Args)]
pub struct RunOptions {
    /// Output file (HDF5).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,
    /// Where to run: auto (GPU if any adapter exists, else CPU), cpu or gpu.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendChoice,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar or log lines.
    #[arg(short, long)]
    pub quiet: bool,
    /// Continue an interrupted run: keep the points already in OUT.h5.partial and
    /// run the rest (the config and overrides must be the same).
    #[arg(long)]
    pub resume: bool,
    /// Run shard K of N (K from 0): sweep points K, K+N, K+2N, … with the seeds they
    /// have in the whole sweep; `asemc merge` joins the shards.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub output: PathBuf,
    pub points: usize,
    pub photons: u64,
    pub photon_steps: u64,
    pub wall_time_s: f64,
}

/// Progress shown while running: a bar on a terminal, log lines otherwise.
enum Progress {
    Bar(ProgressBar),
    Log,
    Quiet,
}

impl Progress {
    /// A bar over `total_work` units (`unit`: time steps of pump points, photon packets
    /// otherwise).
    fn new(quiet: bool, total_work: u64, unit: &'static str) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total_work);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {human_pos}/{human_len}  {rate}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.3e} {unit}/s", state.per_sec());
                    },
                )
                .progress_chars("=> "),
            );
            Progress::Bar(bar)
        } else {
            Progress::Log
        }
    }

    fn log(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.println(format!("asemc: {line}")),
            Progress::Log => eprintln!("asemc: {line}"),
            Progress::Quiet => {}
        }
    }
}

/// Run every point of `resolved` and write them to `opts.output`.
pub fn run(resolved: &Resolved, opts: &RunOptions) -> Result<RunReport> {
    output::check_output_path(&opts.output)?;
    let (backend, why) = select(opts.backend, opts.threads)?;
    let runs = |i: usize| opts.shard.is_none_or(|s| s.holds(i));
    let total_work = work_to_run(resolved, runs);
    let pump = resolved.base.source.kind == crate::config::SourceKind::Pump;
    let unit = if pump { "time steps" } else { "photons" };
    let progress = Progress::new(opts.quiet, total_work, unit);
    progress.log(&why);
    let n_points = resolved.plan.len();
    let meta = run_metadata(resolved, backend.as_ref(), n_points, opts.shard);
    let n_run = meta.points_expected();
    if let Some(shard) = opts.shard {
        progress.log(&format!(
            "shard {shard}: {n_run} of the sweep's {n_points} points (every {}th from point {})",
            shard.count, shard.index
        ));
    }
    let start = Instant::now();
    if opts.resume && already_finished(&opts.output, &meta)? {
        progress.log(&format!(
            "all {n_run} points are already in {}; nothing to do",
            opts.output.display()
        ));
        return Ok(RunReport {
            output: opts.output.clone(),
            points: n_run,
            photons: 0,
            photon_steps: 0,
            wall_time_s: 0.0,
        });
    }
    handle_interrupt(partial_path(&opts.output), n_run);
    let (mut out, done) = {
        let _guard = WRITING.lock();
        let opened = open_output(opts, &meta, &progress, n_run)?;
        POINTS_DONE.store(opened.1.len(), Ordering::SeqCst);
        opened
    };
    stop_if_interrupted();
    if let Progress::Bar(bar) = &progress {
        let skipped: u64 = done.iter().map(|&i| work_units(&resolved.points[i])).sum();
        bar.set_length(total_work - skipped);
    }
    let mut photon_steps = 0;
    let mut photons = 0;
    // Wall time of the points run so far, for the packet rate on the bar.
    let mut busy_s = 0.0;
    for (i, config) in resolved.points.iter().enumerate() {
        if !runs(i) || done.binary_search(&i).is_ok() {
            continue;
        }
        let params = resolved.plan.params(i);
        show_point_started(&progress, i, n_points, photons, busy_s);
        let tick = |n: u64| {
            if let Progress::Bar(bar) = &progress {
                bar.inc(n);
            }
        };
        let result = backend.run_point(config, i as u32, &tick).map_err(|e| {
            Error::Runtime(format!(
                "sweep point {i}: {e}; finished points are in {}",
                out.partial().display()
            ))
        })?;
        write_point(&mut out, i, &params, config.run.seed, &result).map_err(|e| {
            Error::Runtime(format!(
                "writing sweep point {i}: {e}; the points finished before it are in {}; fix the cause (a full disk, say) and run the same command with --resume",
                out.partial().display()
            ))
        })?;
        photon_steps += result.photon_steps;
        photons += result.photons;
        busy_s += result.wall_time_s;
        log_point_done(&progress, i, n_points, &params, &result);
        stop_if_interrupted();
    }
    let wall_time_s = start.elapsed().as_secs_f64();
    let output = finish_output(out, &progress, wall_time_s, n_points)?;
    Ok(RunReport {
        output,
        points: n_run,
        photons,
        photon_steps,
        wall_time_s,
    })
}

/// The work units of the points that `runs`, for the progress bar.
fn work_to_run(resolved: &Resolved, runs: impl Fn(usize) -> bool) -> u64 {
    resolved
        .points
        .iter()
        .enumerate()
        .filter(|(i, _)| runs(*i))
        .map(|(_, c)| work_units(c))
        .sum()
}

/// What the output file records of the run: the config, its seed, the backend and the sweep.
fn run_metadata(
    resolved: &Resolved,
    backend: &dyn Backend,
    n_points: usize,
    shard: Option<Shard>,
) -> RunMetadata {
    RunMetadata {
        config_path: resolved.path.display().to_string(),
        config_toml: resolved.to_toml(),
        seed: resolved.base.run.seed,
        backend: backend.name().to_string(),
        adapter: backend.adapter(),
        swept_keys: resolved.plan.keys.clone(),
        points_total: n_points,
        shard,
    }
}

/// The output and the points it holds: with `--resume` the partial run, else a new one.
fn open_output(
    opts: &RunOptions,
    meta: &RunMetadata,
    progress: &Progress,
    n_run: usize,
) -> Result<(OutputFile, Vec<usize>)> {
    let resumed = if opts.resume {
        OutputFile::resume(&opts.output, meta)?
    } else {
        None
    };
    Ok(match resumed {
        Some((out, done)) => {
            progress.log(&format!(
                "resuming {}: {} of {n_run} points already done",
                out.partial().display(),
                done.len()
            ));
            (out, done)
        }
        None => (OutputFile::create(&opts.output, meta)?, Vec::new()),
    })
}

/// Name point `i` on the bar, with the packet rate of the points run so far.
fn show_point_started(progress: &Progress, i: usize, n_points: usize, photons: u64, busy_s: f64) {
    if let Progress::Bar(bar) = progress {
        let rate = if busy_s > 0.0 {
            format!(", {:.2e} photon packets/s", photons as f64 / busy_s)
        } else {
            String::new()
        };
        bar.set_message(format!("point {}/{n_points}{rate}", i + 1));
    }
}

/// Write point `i` while holding the write lock, so Ctrl-C waits for the write to end.
fn write_point(
    out: &mut OutputFile,
    i: usize,
    params: &[(String, f64)],
    seed: u64,
    result: &PointResult,
) -> Result<()> {
    let _guard = WRITING.lock();
    out.write_point(i, params, seed, result)?;
    POINTS_DONE.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Log point `i` as done, with its swept parameters, packets, time and packet rate.
fn log_point_done(
    progress: &Progress,
    i: usize,
    n_points: usize,
    params: &[(String, f64)],
    result: &PointResult,
) {
    let described: Vec<String> = params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    progress.log(&format!(
        "point {}/{n_points} done{}: {} photon packets in {:.2} s ({:.3e} packets/s)",
        i + 1,
        if described.is_empty() {
            String::new()
        } else {
            format!(" ({})", described.join(", "))
        },
        result.photons,
        result.wall_time_s,
        result.photons as f64 / result.wall_time_s.max(1e-9),
    ));
    for note in &result.notes {
        progress.log(&format!("point {}/{n_points}: {note}", i + 1));
    }
}

/// Close the output file under the write lock, clear the bar and log the file written.
fn finish_output(
    out: OutputFile,
    progress: &Progress,
    wall_time_s: f64,
    n_points: usize,
) -> Result<PathBuf> {
    let output = {
        let mut guard = WRITING.lock();
        let partial = out.partial().to_path_buf();
        let output = out.finish(wall_time_s).map_err(|e| {
            Error::Runtime(format!(
                "assembling the run's file: {e}; every point is in {}; fix the cause and run the same command with --resume",
                partial.display()
            ))
        })?;
        if let Ok(w) = guard.as_deref_mut() {
            *w = Some(Writing::Finished(output.clone()));
        }
        output
    };
    stop_if_interrupted();
    if let Progress::Bar(bar) = progress {
        bar.finish_and_clear();
    }
    progress.log(&format!(
        "wrote {} ({n_points} points, {wall_time_s:.2} s)",
        output.display()
    ));
    Ok(output)
}
