//! Writing a run to one self-describing HDF5 file.
//!
//! A run in progress is a directory, `OUT.h5.partial/`, beside the requested name:
//! `run.h5` holds the run's root attributes and each finished point is a file of its
//! own, `NNNN.h5`. Every one of these files is written under a temporary name,
//! flushed, closed and synced, and then committed by one rename, so a process killed
//! at any moment leaves each of them whole or absent: HDF5 1.10 (without SWMR) can
//! leave a file it was writing unreadable, and no file that holds a finished point is
//! ever open for writing again. When every point is there the run's file is assembled
//! from them, again under a temporary name, renamed to `OUT.h5`, and the directory
//! removed. A crash never leaves a truncated file under the requested name. The layout
//! is documented in docs/output-format.md.

use std::path::{Path, PathBuf};

use super::hdf5_attrs::{write_f64, write_str, write_u64};
use crate::error::{Error, Result};
use crate::result::PointResult;

/// Value of the root attribute `format`.
pub const FORMAT: &str = "asemc";
/// Version of the layout described in docs/output-format.md; bumped on incompatible changes.
pub const FORMAT_VERSION: u64 = 1;
/// Name of the group holding the sweep points.
pub const POINTS_GROUP: &str = "points";

/// Facts about the whole run, written as root attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMetadata {
    pub config_path: String,
    /// The resolved configuration as TOML.
    pub config_toml: String,
    pub seed: u64,
    pub backend: String,
    pub adapter: String,
    pub swept_keys: Vec<String>,
    /// Points in the whole sweep.
    pub points_total: usize,
    /// The part of the sweep this file holds (all of it when `None`).
    pub shard: Option<crate::config::Shard>,
}

impl RunMetadata {
    /// Points this file holds when complete.
    pub fn points_expected(&self) -> usize {
        self.shard
            .map_or(self.points_total, |s| s.len(self.points_total))
    }
}

/// The name of point `index`'s group: zero-padded to at least four digits, wide enough
/// for every point of the run so names sort in point order.
pub fn point_name(index: usize, points_total: usize) -> String {
    let width = points_total.saturating_sub(1).to_string().len().max(4);
    format!("{index:0width$}")
}

/// An output path is usable if its directory exists and it is not itself a directory.
pub fn check_output_path(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "the output directory {} does not exist; create it first or choose another -o path",
                dir.display()
            ),
        });
    }
    if path.is_dir() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "is a directory; give a file name such as out.h5".into(),
        });
    }
    // Whether a file can be made there at all: a probe, removed at once.
    let probe = dir.join(format!(".asemc-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "cannot write in the output directory {} ({e}); choose another -o path",
                dir.display()
            ),
        }),
    }
}

/// The name of a run in progress: the directory `OUT.h5.partial` beside `dest`.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The file of a partial run that holds the run's root attributes.
pub(crate) const RUN_FILE: &str = "run.h5";
/// Ending of a file being written and not yet committed (after the writer's pid, so
/// that two writers never share one).
const UNCOMMITTED: &str = ".tmp";
/// The file of a partial run that its writer holds locked while it runs.
const LOCK_FILE: &str = "lock";
/// The file a finished run is assembled in, inside the partial directory.
const ASSEMBLED: &str = "assembled.h5";

/// The point a committed file of a partial run holds, from its name (`NNNN.h5`).
pub(crate) fn piece_index(file_name: &str) -> Option<usize> {
    let stem = file_name.strip_suffix(".h5")?;
    (!stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

/// Write the HDF5 file `path` atomically: `fill` writes it under a temporary name,
/// which is flushed, closed, synced and renamed to `path`, and the directory synced.
/// `what` names the file for the test hook's stops inside the write ([`super::fault`]).
fn write_committed(
    path: &Path,
    what: &str,
    fill: impl FnOnce(&hdf5::File) -> hdf5::Result<()>,
) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}{UNCOMMITTED}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let file = super::h5file::create(&tmp).map_err(|e| Error::hdf5(&tmp, e))?;
    super::fault::stop("created", what);
    let written = fill(&file)
        .and_then(|()| file.flush())
        .and_then(|()| file.close());
    written.map_err(|e| Error::hdf5(&tmp, e))?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    super::fault::stop("written", what);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path)?;
    super::fault::stop("committed", what);
    Ok(())
}

/// Make a rename in the directory of `path` durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })
}

/// Whether `dir` holds nothing but what asemc writes in a partial run.
fn only_partial_run_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).all(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            e.path().is_file()
                && (name == RUN_FILE
                    || name == LOCK_FILE
                    || name == ASSEMBLED
                    || name.ends_with(UNCOMMITTED)
                    || piece_index(&name).is_some())
        })
    })
}

/// Take the partial run's lock (creating its lock file), or say that another process
/// holds it. The lock (an `flock`, released when the file closes, close-on-exec) keeps
/// two processes from writing one partial run.
fn lock(partial: &Path) -> Result<std::fs::File> {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let path = partial.join(LOCK_FILE);
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // SAFETY: flock on a descriptor this function holds open.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        return Err(Error::Input {
            path: partial.to_path_buf(),
            message: format!(
                "is being written by another asemc process{}; wait for it to end, or stop it and run again",
                match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (pid {pid})"),
                }
            ),
        });
    }
    file.set_len(0).map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// Remove the partial run beside `dest` (a leftover of a run whose file is complete),
/// unless another process is writing it.
pub fn discard_partial(dest: &Path) -> Result<()> {
    remove_partial(&partial_path(dest))
}

/// Remove the partial run `partial`, if there is one: never a directory holding what
/// asemc does not write, nor one that another process is writing.
fn remove_partial(partial: &Path) -> Result<()> {
    let io = |source| Error::Io {
        path: partial.to_path_buf(),
        source,
    };
    if partial.is_dir() {
        if !only_partial_run_files(partial) {
            return Err(Error::Input {
                path: partial.to_path_buf(),
                message:
                    "is a directory that is not a partial asemc run; remove it or choose another -o"
                        .into(),
            });
        }
        let held = lock(partial)?;
        std::fs::remove_dir_all(partial).map_err(io)?;
        drop(held);
    } else if partial.exists() {
        std::fs::remove_file(partial).map_err(io)?;
    }
    Ok(())
}

/// A run being written: its partial directory, held locked.
pub struct OutputFile {
    partial: PathBuf,
    dest: PathBuf,
    points_total: usize,
    /// The points the finished file holds (the shard's).
    expected: Vec<usize>,
    _lock: std::fs::File,
}

/// The points of a run of `meta` (its shard's).
fn expected_points(meta: &RunMetadata) -> Vec<usize> {
    (0..meta.points_total)
        .filter(|&i| meta.shard.is_none_or(|s| s.holds(i)))
        .collect()
}

impl OutputFile {
    /// Start writing the run that will end up at `dest`, replacing the partial run of
    /// an earlier start.
    pub fn create(dest: &Path, meta: &RunMetadata) -> Result<Self> {
        let partial = partial_path(dest);
        let io = |source| Error::Io {
            path: partial.clone(),
            source,
        };
        remove_partial(&partial)?;
        std::fs::create_dir(&partial).map_err(io)?;
        sync_dir(&partial)?;
        let held = lock(&partial)?;
        write_committed(&partial.join(RUN_FILE), "run", |file| {
            write_str(file, "format", FORMAT)?;
            write_u64(file, "format_version", FORMAT_VERSION)?;
            write_str(file, "asemc_version", env!("CARGO_PKG_VERSION"))?;
            write_str(file, "git_commit", env!("ASEMC_GIT_COMMIT"))?;
            write_str(file, "source_hash", env!("ASEMC_SOURCE_HASH"))?;
            write_str(file, "created_utc", &utc_now())?;
            write_str(file, "config_path", &meta.config_path)?;
            write_str(file, "config_toml", &meta.config_toml)?;
            write_u64(file, "seed", meta.seed)?;
            write_str(file, "backend", &meta.backend)?;
            write_str(file, "adapter", &meta.adapter)?;
            write_str(file, "swept_keys", &meta.swept_keys.join(","))?;
            write_u64(file, "points_total", meta.points_total as u64)?;
            if let Some(shard) = meta.shard {
                write_u64(file, "shard_index", shard.index as u64)?;
                write_u64(file, "shard_count", shard.count as u64)?;
            }
            Ok(())
        })?;
        Ok(Self {
            partial,
            dest: dest.to_path_buf(),
            points_total: meta.points_total,
            expected: expected_points(meta),
            _lock: held,
        })
    }

    /// Continue the interrupted run whose partial directory lies beside `dest`: check
    /// it was written by the same resolved config, delete what a kill left unfinished
    /// (files not committed, an assembly cut short), and return the indices of the
    /// points already complete. `None` when there is no partial run to continue.
    pub fn resume(dest: &Path, meta: &RunMetadata) -> Result<Option<(Self, Vec<usize>)>> {
        let partial = partial_path(dest);
        if !partial.exists() {
            return Ok(None);
        }
        let damaged = |why: String| Error::Input {
            path: partial.clone(),
            message: format!("cannot be resumed ({why}); remove it and run again without --resume"),
        };
        if !partial.is_dir() {
            return Err(damaged(
                "a single file, as asemc 0.1 wrote partial runs; a partial run is now a directory"
                    .into(),
            ));
        }
        let held = lock(&partial)?;
        if !partial.join(RUN_FILE).exists() {
            // Killed before the run's first file was committed: nothing to keep.
            return Ok(None);
        }
        let run = super::h5file::open(&partial.join(RUN_FILE))
            .map_err(|e| damaged(format!("its {RUN_FILE} is unreadable: {e}")))?;
        let config = super::hdf5_attrs::read_str(&run, "config_toml")
            .map_err(|_| damaged("no config_toml attribute".into()))?;
        if config != meta.config_toml {
            return Err(Error::Input {
                path: partial.clone(),
                message: "was written by a different config (or other --set/--seed values); run with the same ones, or remove it and run without --resume".into(),
            });
        }
        let shard = super::reader::shard_of(&run).map_err(|e| damaged(e.to_string()))?;
        if shard != meta.shard {
            return Err(Error::Input {
                path: partial.clone(),
                message: format!(
                    "holds {}, not {}; resume with the same --shard, or remove it and run without --resume",
                    crate::config::describe_shard(shard),
                    crate::config::describe_shard(meta.shard)
                ),
            });
        }
        let build = super::hdf5_attrs::read_str(&run, "source_hash").unwrap_or_default();
        if build != env!("ASEMC_SOURCE_HASH") {
            return Err(Error::Input {
                path: partial.clone(),
                message: format!(
                    "was written by another build of asemc (source_hash {build}, this build {}); resume it with that build, or remove it and run again",
                    env!("ASEMC_SOURCE_HASH")
                ),
            });
        }
        drop(run);
        let expected = expected_points(meta);
        let io = |p: PathBuf| move |source| Error::Io { path: p, source };
        let mut done = Vec::new();
        for entry in std::fs::read_dir(&partial).map_err(io(partial.clone()))? {
            let path = entry.map_err(io(partial.clone()))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == RUN_FILE || name == LOCK_FILE {
                continue;
            }
            // A point is kept if its file is named as this run names it and holds it
            // finished; anything else (uncommitted files, an assembly a kill cut
            // short, a point of another sweep) goes, and the point is run again.
            let keep = piece_index(name).filter(|&i| {
                expected.binary_search(&i).is_ok()
                    && name == format!("{}.h5", point_name(i, meta.points_total))
                    && super::h5file::open(&path)
                        .and_then(|f| {
                            f.group(&format!(
                                "{POINTS_GROUP}/{}",
                                point_name(i, meta.points_total)
                            ))
                        })
                        .is_ok_and(|g| g.attr("complete").is_ok())
            });
            match keep {
                Some(i) => done.push(i),
                None if path.is_dir() => {
                    std::fs::remove_dir_all(&path).map_err(io(path.clone()))?
                }
                None => std::fs::remove_file(&path).map_err(io(path.clone()))?,
            }
        }
        done.sort_unstable();
        Ok(Some((
            Self {
                partial,
                dest: dest.to_path_buf(),
                points_total: meta.points_total,
                expected,
                _lock: held,
            },
            done,
        )))
    }

    /// Write point `index` to a file of its own and commit it.
    pub fn write_point(
        &mut self,
        index: usize,
        params: &[(String, f64)],
        seed: u64,
        result: &PointResult,
    ) -> Result<()> {
        let name = point_name(index, self.points_total);
        let path = self.partial.join(format!("{name}.h5"));
        write_committed(&path, &index.to_string(), |file| {
            let g = file.create_group(POINTS_GROUP)?.create_group(&name)?;
            for (key, value) in params {
                write_f64(&g, key, *value)?;
            }
            write_u64(&g, "index", index as u64)?;
            write_u64(&g, "seed", seed)?;
            write_u64(&g, "photons", result.photons)?;
            write_u64(&g, "photon_steps", result.photon_steps)?;
            write_f64(&g, "wall_time_s", result.wall_time_s)?;
            if !result.notes.is_empty() {
                write_str(&g, "notes", &result.notes.join("\n"))?;
            }
            for s in &result.scalars {
                let ds = g.new_dataset::<f64>().shape(()).create(s.name.as_str())?;
                ds.write_scalar(&s.value)?;
                write_str(&ds, "units", &s.units)?;
                if let Some(err) = s.stderr {
                    let ds = g
                        .new_dataset::<f64>()
                        .shape(())
                        .create(format!("{}_stderr", s.name).as_str())?;
                    ds.write_scalar(&err)?;
                    write_str(&ds, "units", &s.units)?;
                    write_str(&ds, "description", &format!("standard error of {}", s.name))?;
                }
            }
            file.flush()?;
            super::fault::stop("half", &index.to_string());
            for a in &result.arrays {
                let ds = g
                    .new_dataset::<f64>()
                    .shape(a.shape.clone())
                    .create(a.name.as_str())?;
                ds.write_raw(&a.data)?;
                write_str(&ds, "units", &a.units)?;
                for (k, v) in &a.attributes {
                    write_str(&ds, k, v)?;
                }
            }
            write_u64(&g, "complete", 1)
        })
    }

    /// Record the run's wall time, assemble its file from the partial run's files,
    /// move it to its requested name and remove the partial directory.
    pub fn finish(self, wall_time_s: f64) -> Result<PathBuf> {
        let parts = super::OutputReader::open(&self.partial)?;
        if parts.indices() != self.expected {
            return Err(Error::Runtime(format!(
                "{} holds {} of the run's {} points; run the same command with --resume",
                self.partial.display(),
                parts.indices().len(),
                self.expected.len()
            )));
        }
        let assembled = self.partial.join(ASSEMBLED);
        write_committed(&assembled, "assembled", |out| {
            for name in parts.file().attr_names()? {
                super::merge::copy_attr(parts.file(), out, &name)?;
            }
            write_f64(out, "wall_time_s", wall_time_s)?;
            let group = out.create_group(POINTS_GROUP)?;
            let indices = parts.indices();
            for (k, &index) in indices.iter().enumerate() {
                if k == indices.len() / 2 {
                    out.flush()?;
                    super::fault::stop("half", "assembled");
                }
                let dst = group.create_group(&point_name(index, self.points_total))?;
                let src = parts
                    .point_group(index)
                    .map_err(|e| hdf5::Error::from(e.to_string()))?;
                super::merge::copy_group(&src, &dst)?;
            }
            write_u64(out, "complete", 1)
        })?;
        drop(parts);
        std::fs::rename(&assembled, &self.dest).map_err(|source| Error::Io {
            path: self.dest.clone(),
            source,
        })?;
        sync_dir(&self.dest)?;
        super::fault::stop("renamed", "assembled");
        // The run is written; a partial directory left behind (a failed removal) is
        // recognised as finished by `--resume` and removed then.
        let _ = std::fs::remove_dir_all(&self.partial);
        Ok(self.dest)
    }

    /// Where the run is being written.
    pub fn partial(&self) -> &Path {
        &self.partial
    }
}

/// The current UTC time as ISO 8601 (seconds).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible low-level
    // date algorithms").
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}
