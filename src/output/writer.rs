//! Writing a run to one self-describing HDF5 file.
//!
//! The file is written as `OUT.h5.partial` beside the requested name and renamed to
//! `OUT.h5` only when every point is in it, so a crash never leaves a truncated file
//! under the requested name. Each point is written and flushed as soon as it finishes.
//! The layout is documented in docs/output-format.md.

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

/// The temporary name a run is written under.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// An output file being written.
pub struct OutputFile {
    file: hdf5::File,
    partial: PathBuf,
    dest: PathBuf,
    points_total: usize,
}

impl OutputFile {
    /// Start writing the run that will end up at `dest`.
    pub fn create(dest: &Path, meta: &RunMetadata) -> Result<Self> {
        let partial = partial_path(dest);
        let file = super::h5file::create(&partial).map_err(|e| Error::hdf5(&partial, e))?;
        let write = || -> hdf5::Result<()> {
            write_str(&file, "format", FORMAT)?;
            write_u64(&file, "format_version", FORMAT_VERSION)?;
            write_str(&file, "asemc_version", env!("CARGO_PKG_VERSION"))?;
            write_str(&file, "git_commit", env!("ASEMC_GIT_COMMIT"))?;
            write_str(&file, "source_hash", env!("ASEMC_SOURCE_HASH"))?;
            write_str(&file, "created_utc", &utc_now())?;
            write_str(&file, "config_path", &meta.config_path)?;
            write_str(&file, "config_toml", &meta.config_toml)?;
            write_u64(&file, "seed", meta.seed)?;
            write_str(&file, "backend", &meta.backend)?;
            write_str(&file, "adapter", &meta.adapter)?;
            write_str(&file, "swept_keys", &meta.swept_keys.join(","))?;
            write_u64(&file, "points_total", meta.points_total as u64)?;
            if let Some(shard) = meta.shard {
                write_u64(&file, "shard_index", shard.index as u64)?;
                write_u64(&file, "shard_count", shard.count as u64)?;
            }
            file.create_group(POINTS_GROUP)?;
            file.flush()
        };
        write().map_err(|e| Error::hdf5(&partial, e))?;
        Ok(Self {
            file,
            partial,
            dest: dest.to_path_buf(),
            points_total: meta.points_total,
        })
    }

    /// Continue the interrupted run whose partial file lies beside `dest`: check it was
    /// written by the same resolved config, drop any point interrupted while being
    /// written, and return the indices of the points already complete. `None` when
    /// there is no partial file to continue.
    pub fn resume(dest: &Path, meta: &RunMetadata) -> Result<Option<(Self, Vec<usize>)>> {
        let partial = partial_path(dest);
        if !partial.exists() {
            return Ok(None);
        }
        let damaged = |why: String| Error::Input {
            path: partial.clone(),
            message: format!("cannot be resumed ({why}); remove it and run again without --resume"),
        };
        let file =
            super::h5file::open_rw(&partial).map_err(|e| damaged(format!("unreadable: {e}")))?;
        let config = super::hdf5_attrs::read_str(&file, "config_toml")
            .map_err(|_| damaged("no config_toml attribute".into()))?;
        if config != meta.config_toml {
            return Err(Error::Input {
                path: partial.clone(),
                message: "was written by a different config (or other --set/--seed values); run with the same ones, or remove it and run without --resume".into(),
            });
        }
        let shard = super::reader::shard_of(&file).map_err(|e| damaged(e.to_string()))?;
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
        let points = file
            .group(POINTS_GROUP)
            .map_err(|e| damaged(format!("no points group: {e}")))?;
        let mut done = Vec::new();
        for name in points
            .member_names()
            .map_err(|e| Error::hdf5(&partial, e))?
        {
            let g = points.group(&name).map_err(|e| Error::hdf5(&partial, e))?;
            let index = g.attr("index").and_then(|a| a.read_scalar::<u64>());
            match (g.attr("complete").is_ok(), index) {
                (true, Ok(i)) => done.push(i as usize),
                _ => points.unlink(&name).map_err(|e| Error::hdf5(&partial, e))?,
            }
        }
        done.sort_unstable();
        Ok(Some((
            Self {
                file,
                partial,
                dest: dest.to_path_buf(),
                points_total: meta.points_total,
            },
            done,
        )))
    }

    /// Write point `index` and flush it to disk.
    pub fn write_point(
        &mut self,
        index: usize,
        params: &[(String, f64)],
        seed: u64,
        result: &PointResult,
    ) -> Result<()> {
        let name = point_name(index, self.points_total);
        let write = || -> hdf5::Result<()> {
            let g = self.file.group(POINTS_GROUP)?.create_group(&name)?;
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
            // Written last: a point without it was interrupted while being written.
            write_u64(&g, "complete", 1)?;
            self.file.flush()
        };
        write().map_err(|e| Error::hdf5(&self.partial, e))
    }

    /// Record the run's wall time, close the file and move it to its requested name.
    pub fn finish(self, wall_time_s: f64) -> Result<PathBuf> {
        let partial = self.partial.clone();
        let close = || -> hdf5::Result<()> {
            write_f64(&self.file, "wall_time_s", wall_time_s)?;
            write_u64(&self.file, "complete", 1)?;
            self.file.flush()?;
            self.file.close()
        };
        close().map_err(|e| Error::hdf5(&partial, e))?;
        std::fs::rename(&partial, &self.dest).map_err(|source| Error::Io {
            path: self.dest.clone(),
            source,
        })?;
        Ok(self.dest)
    }

    /// Where the file is being written.
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
