//! Joining the files of a sharded run (`asemc run --shard K/N`) into one file whose
//! points, datasets and point attributes are those of the unsharded run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};

use super::OutputReader;
use super::hdf5_attrs::{write_f64, write_str, write_u64};
use super::writer::{POINTS_GROUP, point_name};
use crate::config::{Shard, describe_shard};
use crate::error::{Error, Result};

/// Root attributes every shard of one run shares: the run's config and format.
const SAME_IN_EVERY_SHARD: [&str; 2] = ["config_toml", "format_version"];
/// Root attributes that name the build of asemc that wrote a shard: every shard's must
/// be the same, unless the merge is told to allow builds that differ.
const SAME_BUILD: [&str; 3] = ["asemc_version", "git_commit", "source_hash"];

/// What a merge may let through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// Write the points there are even if some are missing.
    pub partial: bool,
    /// Merge shards written by different builds of asemc (the merged file records it).
    pub build_mismatch: bool,
}

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeReport {
    pub output: PathBuf,
    pub points: usize,
    pub points_total: usize,
    /// Indices of the sweep's points not in any shard (empty unless `allow_partial`).
    pub missing: Vec<usize>,
}

/// One shard file, opened and identified.
struct Part {
    path: PathBuf,
    reader: OutputReader,
    shard: Option<Shard>,
    /// The indices of its complete points.
    points: Vec<usize>,
}

impl Part {
    fn open(path: &Path) -> Result<Self> {
        let reader = OutputReader::open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            shard: reader.shard()?,
            points: reader.indices(),
            reader,
        })
    }

    fn file(&self) -> &hdf5::File {
        self.reader.file()
    }

    /// A root attribute as text, whether stored as a string or an integer; the
    /// build's source hash is "unknown" in files written before it was recorded.
    fn root(&self, name: &str) -> Result<String> {
        let value = self
            .reader
            .root_str(name)
            .or_else(|_| self.reader.root_u64(name).map(|v| v.to_string()));
        match value {
            Err(_) if name == "source_hash" => Ok("unknown".into()),
            v => v,
        }
    }
}

fn input(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// "0–3, 7, 9–10".
fn ranges(indices: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        out.push(if j == i {
            indices[i].to_string()
        } else {
            format!("{}–{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Merge `parts` into `dest`. The parts must come from one config and one build of
/// asemc (unless `allow.build_mismatch`), and hold every point of the sweep exactly
/// once (unless `allow.partial`, which writes the points there are).
pub fn merge(parts: &[PathBuf], dest: &Path, allow: Allow) -> Result<MergeReport> {
    if parts.is_empty() {
        return Err(Error::Usage("merge needs at least one shard file".into()));
    }
    super::check_output_path(dest)?;
    if let Some(p) = parts.iter().find(|p| p.as_path() == dest) {
        return Err(input(
            p,
            "is both a shard and the output; choose another -o".into(),
        ));
    }
    let parts: Vec<Part> = parts.iter().map(|p| Part::open(p)).collect::<Result<_>>()?;
    let first = &parts[0];
    check_same_run(&parts, allow.build_mismatch)?;
    let points_total = first.reader.root_u64("points_total")? as usize;

    let owner = point_owners(&parts)?;
    let missing: Vec<usize> = (0..points_total)
        .filter(|i| !owner.contains_key(i))
        .collect();
    if !missing.is_empty() && !allow.partial {
        return Err(missing_points(first, owner.len(), &missing, points_total));
    }

    // Not `partial_path(dest)`: that is the name of a run in progress.
    let mut partial = dest.as_os_str().to_owned();
    partial.push(format!(".merging.{}.tmp", std::process::id()));
    let partial = PathBuf::from(partial);
    write_merged(&partial, &parts, &owner, points_total, missing.is_empty())
        .and_then(|()| {
            if allow.build_mismatch {
                record_builds(&partial, &parts)
            } else {
                Ok(())
            }
        })
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Error::hdf5(&partial, e)
        })?;
    std::fs::rename(&partial, dest).map_err(|source| Error::Io {
        path: dest.to_path_buf(),
        source,
    })?;
    Ok(MergeReport {
        output: dest.to_path_buf(),
        points: owner.len(),
        points_total,
        missing,
    })
}

/// Refuse parts whose config, or (unless `any_build`) build of asemc, differs from the
/// first part's.
fn check_same_run(parts: &[Part], any_build: bool) -> Result<()> {
    let first = &parts[0];
    let checked: Vec<&str> = SAME_IN_EVERY_SHARD
        .into_iter()
        .chain(SAME_BUILD.into_iter().filter(|_| !any_build))
        .collect();
    for part in &parts[1..] {
        for &name in &checked {
            if part.root(name)? != first.root(name)? {
                let what = match name {
                    "config_toml" => {
                        "a different config (or other --set/--seed values)".to_string()
                    }
                    _ => format!(
                        "another build of asemc ({name} {} here, {} in {}; --allow-build-mismatch merges them anyway)",
                        part.root(name)?,
                        first.root(name)?,
                        first.path.display()
                    ),
                };
                return Err(input(
                    &part.path,
                    format!(
                        "was written by {what} than {}; shards of one run only can be merged",
                        first.path.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Which file holds each point; a point in two files is refused.
fn point_owners(parts: &[Part]) -> Result<BTreeMap<usize, usize>> {
    let mut owner: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, part) in parts.iter().enumerate() {
        for &index in &part.points {
            if let Some(&other) = owner.get(&index) {
                return Err(input(
                    &part.path,
                    format!(
                        "holds point {index}, which {} ({}) holds too; give each shard once",
                        parts[other].path.display(),
                        describe_shard(parts[other].shard)
                    ),
                ));
            }
            owner.insert(index, k);
        }
    }
    Ok(owner)
}

/// The error naming the `missing` points of the sweep, and their shards, that no part holds.
fn missing_points(first: &Part, held: usize, missing: &[usize], points_total: usize) -> Error {
    // The shards that would hold the missing points, when the files are shards.
    let shards: Vec<String> = match first.shard.map(|s| s.count) {
        Some(n) => missing
            .iter()
            .map(|i| i % n)
            .collect::<std::collections::BTreeSet<_>>()
            .iter()
            .map(|k| format!("{k}/{n}"))
            .collect(),
        None => Vec::new(),
    };
    input(
        &first.path,
        format!(
            "the shards given hold {held} of the sweep's {points_total} points; missing: point{} {}{}. Give every shard, rerun the missing ones (asemc run … --shard K/N --resume), or merge with --allow-partial",
            if missing.len() == 1 { "" } else { "s" },
            ranges(missing),
            if shards.is_empty() {
                String::new()
            } else {
                format!(
                    " (shard{} {})",
                    if shards.len() == 1 { "" } else { "s" },
                    shards.join(", ")
                )
            }
        ),
    )
}

/// Write the merged file at `partial`: the run's root attributes, then each owned point.
fn write_merged(
    partial: &Path,
    parts: &[Part],
    owner: &BTreeMap<usize, usize>,
    points_total: usize,
    complete: bool,
) -> hdf5::Result<()> {
    let first = &parts[0];
    let out = super::h5file::create(partial)?;
    // The run's root attributes, less the shard, plus how the file was made.
    for name in first.file().attr_names()? {
        if !matches!(
            name.as_str(),
            "shard_index" | "shard_count" | "wall_time_s" | "complete"
        ) {
            copy_attr(first.file(), &out, &name)?;
        }
    }
    let wall: f64 = parts
        .iter()
        .filter_map(|p| {
            p.file()
                .attr("wall_time_s")
                .and_then(|a| a.read_scalar::<f64>())
                .ok()
        })
        .sum();
    write_f64(&out, "wall_time_s", wall)?;
    write_u64(&out, "merged_files", parts.len() as u64)?;
    let sources: Vec<String> = parts.iter().map(|p| p.path.display().to_string()).collect();
    write_str(&out, "merged_from", &sources.join("\n"))?;
    let group = out.create_group(POINTS_GROUP)?;
    for (&index, &k) in owner {
        let src = parts[k]
            .reader
            .point_group(index)
            .map_err(|e| hdf5::Error::from(e.to_string()))?;
        let dst = group.create_group(&point_name(index, points_total))?;
        copy_group(&src, &dst)?;
    }
    if complete {
        write_u64(&out, "complete", 1)?;
    }
    out.flush()?;
    out.close()
}

/// Record in the merged file at `path` that its shards' builds were allowed to differ,
/// and each shard's build.
fn record_builds(path: &Path, parts: &[Part]) -> hdf5::Result<()> {
    let out = super::h5file::open_rw(path)?;
    write_u64(&out, "build_mismatch_allowed", 1)?;
    let builds: Vec<String> = parts
        .iter()
        .map(|p| {
            let field = |n: &str| p.root(n).unwrap_or_else(|_| "unknown".into());
            format!(
                "{}: asemc_version {}, git_commit {}, source_hash {}",
                p.path.display(),
                field("asemc_version"),
                field("git_commit"),
                field("source_hash")
            )
        })
        .collect();
    write_str(&out, "merged_builds", &builds.join("\n"))?;
    out.flush()
}

/// Copy the attribute `name` of `src` to `dst` (the types asemc writes: f64, u64 and
/// variable-length UTF-8 strings).
pub(crate) fn copy_attr(
    src: &hdf5::Location,
    dst: &hdf5::Location,
    name: &str,
) -> hdf5::Result<()> {
    let attr = src.attr(name)?;
    match attr.dtype()?.to_descriptor()? {
        TypeDescriptor::Float(FloatSize::U8) => write_f64(dst, name, attr.read_scalar::<f64>()?),
        TypeDescriptor::Unsigned(IntSize::U8) => write_u64(dst, name, attr.read_scalar::<u64>()?),
        TypeDescriptor::VarLenUnicode => {
            write_str(dst, name, attr.read_scalar::<VarLenUnicode>()?.as_str())
        }
        other => Err(format!("attribute {name}: unexpected type {other:?}").into()),
    }
}

/// Copy a point group: its attributes, and its f64 datasets with their attributes.
pub(crate) fn copy_group(src: &hdf5::Group, dst: &hdf5::Group) -> hdf5::Result<()> {
    for name in src.attr_names()? {
        copy_attr(src, dst, &name)?;
    }
    for name in src.member_names()? {
        let ds = src.dataset(&name)?;
        if ds.dtype()?.to_descriptor()? != TypeDescriptor::Float(FloatSize::U8) {
            return Err(format!("dataset {name}: not f64").into());
        }
        let copy = if ds.is_scalar() {
            let c = dst.new_dataset::<f64>().shape(()).create(name.as_str())?;
            c.write_scalar(&ds.read_scalar::<f64>()?)?;
            c
        } else {
            let c = dst
                .new_dataset::<f64>()
                .shape(ds.shape())
                .create(name.as_str())?;
            c.write_raw(&ds.read_raw::<f64>()?)?;
            c
        };
        for a in ds.attr_names()? {
            copy_attr(&ds, &copy, &a)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn index_lists_are_written_as_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 3, 7, 9, 10]), "0–3, 7, 9–10");
        assert_eq!(ranges(&[4]), "4");
        assert_eq!(ranges(&[]), "");
    }
}
