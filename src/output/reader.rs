//! Reading asemc output files back (for `summary` and the tests).

use std::collections::BTreeMap;
use std::path::Path;

use super::hdf5_attrs::read_str;
use super::writer::{FORMAT, POINTS_GROUP};
use crate::config::Shard;
use crate::error::{Error, Result};

/// The shard recorded in a file's root attributes, if any.
pub(crate) fn shard_of(file: &hdf5::File) -> hdf5::Result<Option<Shard>> {
    if file.attr("shard_count").is_err() {
        return Ok(None);
    }
    let read = |name: &str| file.attr(name)?.read_scalar::<u64>();
    Ok(Some(Shard {
        index: read("shard_index")? as usize,
        count: read("shard_count")? as usize,
    }))
}

/// One point as stored: its swept parameters, its run attributes and its scalar results.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRecord {
    pub index: usize,
    /// Swept parameter values, in sweep-axis order.
    pub params: Vec<(String, f64)>,
    pub seed: u64,
    pub photons: u64,
    pub photon_steps: u64,
    pub wall_time_s: f64,
    /// Scalar datasets (results and their `_stderr`), in name order.
    pub scalars: Vec<(String, f64)>,
    /// Each replica's scalars (`replica_results`): rows of values, and the columns' names.
    pub replicas: (Vec<f64>, String),
    /// What the run said of the point.
    pub notes: Vec<String>,
}

impl PointRecord {
    /// Each replica's value of the scalar `name` (empty where the file has none).
    pub fn replica_values(&self, name: &str) -> Vec<f64> {
        crate::result::column(&self.replicas.1, &self.replicas.0, name)
    }
}

/// An opened output file, or the directory of a run in progress (`OUT.h5.partial`).
pub struct OutputReader {
    /// The file with the run's root attributes: the file itself, or a partial run's
    /// `run.h5`.
    file: hdf5::File,
    /// A partial run's committed point files (none for a finished file), opened one
    /// at a time when a point is read: a sweep may hold more points than a process
    /// may hold files open.
    pieces: Vec<std::path::PathBuf>,
    /// Each finished point's group: its file (0 `file`, k > 0 `pieces[k − 1]`) and name.
    groups: BTreeMap<usize, (usize, String)>,
    pub swept_keys: Vec<String>,
}

/// The groups of the finished points (those with `complete`) under `points` in `file`:
/// index → group name.
fn complete_groups(file: &hdf5::File) -> hdf5::Result<BTreeMap<usize, String>> {
    let group = file.group(POINTS_GROUP)?;
    let mut out = BTreeMap::new();
    for name in group.member_names()? {
        let g = group.group(&name)?;
        if g.attr("complete").is_err() {
            continue;
        }
        let index = g.attr("index").and_then(|a| a.read_scalar::<u64>())?;
        out.insert(index as usize, name);
    }
    Ok(out)
}

impl OutputReader {
    /// Open `path`, checking it is an asemc output file (or a partial run's directory).
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        let unreadable = |p: &Path, e: hdf5::Error| Error::Input {
            path: p.to_path_buf(),
            message: format!(
                "not a readable HDF5 file (corrupt, truncated, or another format): {e}"
            ),
        };
        let root = if path.is_dir() {
            path.join(super::writer::RUN_FILE)
        } else {
            path.to_path_buf()
        };
        if path.is_dir() && !root.exists() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "a directory without {}: not a partial asemc run",
                    super::writer::RUN_FILE
                ),
            });
        }
        let file = super::h5file::open(&root).map_err(|e| unreadable(&root, e))?;
        match read_str(&file, "format") {
            Ok(f) if f == FORMAT => {}
            _ => {
                return Err(Error::Input {
                    path: root.clone(),
                    message: "an HDF5 file, but not an asemc output file (no root attribute format = \"asemc\")".into(),
                });
            }
        }
        let swept_keys = read_str(&file, "swept_keys")
            .map_err(|e| Error::hdf5(&root, e))?
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect();
        let mut pieces = Vec::new();
        let mut groups = BTreeMap::new();
        if path.is_dir() {
            let io = |source| Error::Io {
                path: path.to_path_buf(),
                source,
            };
            let mut names: Vec<(usize, std::path::PathBuf)> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter_map(|p| {
                    let name = p.file_name()?.to_str()?;
                    super::writer::piece_index(name).map(|i| (i, p.clone()))
                })
                .collect();
            names.sort();
            for (_, piece) in names {
                let f = super::h5file::open(&piece).map_err(|e| unreadable(&piece, e))?;
                for (index, name) in complete_groups(&f).map_err(|e| Error::hdf5(&piece, e))? {
                    groups.insert(index, (pieces.len() + 1, name));
                }
                pieces.push(piece);
            }
        } else {
            for (index, name) in complete_groups(&file).map_err(|e| Error::hdf5(&root, e))? {
                groups.insert(index, (0, name));
            }
        }
        Ok(Self {
            file,
            pieces,
            groups,
            swept_keys,
        })
    }

    /// A root attribute as a string.
    pub fn root_str(&self, name: &str) -> Result<String> {
        read_str(&self.file, name).map_err(|e| Error::hdf5(self.file.filename(), e))
    }

    /// A root attribute as an unsigned integer.
    pub fn root_u64(&self, name: &str) -> Result<u64> {
        self.file
            .attr(name)
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| Error::hdf5(self.file.filename(), e))
    }

    /// The part of the sweep the file holds (`None`: all of it).
    pub fn shard(&self) -> Result<Option<Shard>> {
        shard_of(&self.file).map_err(|e| Error::hdf5(self.file.filename(), e))
    }

    /// The file of the run's root attributes.
    pub(crate) fn file(&self) -> &hdf5::File {
        &self.file
    }

    /// The indices of the finished points, in order.
    pub fn indices(&self) -> Vec<usize> {
        self.groups.keys().copied().collect()
    }

    /// The group of finished point `index`.
    pub(crate) fn point_group(&self, index: usize) -> Result<hdf5::Group> {
        let Some((k, name)) = self.groups.get(&index) else {
            return Err(Error::Input {
                path: self.file.filename().into(),
                message: format!("holds no finished point {index}"),
            });
        };
        // A group keeps its file open until it is dropped.
        let opened;
        let file = if *k == 0 {
            &self.file
        } else {
            let piece = &self.pieces[k - 1];
            opened = super::h5file::open(piece).map_err(|e| Error::hdf5(piece, e))?;
            &opened
        };
        file.group(POINTS_GROUP)
            .and_then(|g| g.group(name))
            .map_err(|e| Error::hdf5(file.filename(), e))
    }

    /// The finished points, in point order.
    pub fn points(&self) -> Result<Vec<PointRecord>> {
        let mut out = Vec::new();
        for index in self.indices() {
            let g = self.point_group(index)?;
            let path = g.filename();
            let err = |e: hdf5::Error| Error::hdf5(&path, e);
            let num = |a: &str| -> Result<f64> {
                let attr = g.attr(a).map_err(err)?;
                attr.read_scalar::<f64>()
                    .or_else(|_| attr.read_scalar::<u64>().map(|v| v as f64))
                    .map_err(err)
            };
            let int = |a: &str| -> Result<u64> {
                g.attr(a)
                    .and_then(|at| at.read_scalar::<u64>())
                    .map_err(err)
            };
            let params = self
                .swept_keys
                .iter()
                .map(|k| Ok((k.clone(), num(k)?)))
                .collect::<Result<Vec<_>>>()?;
            let mut scalars = Vec::new();
            let mut replicas = (Vec::new(), String::new());
            let mut ds_names = g.member_names().map_err(err)?;
            ds_names.sort();
            for ds_name in ds_names {
                let ds = g.dataset(&ds_name).map_err(err)?;
                if ds.is_scalar() {
                    scalars.push((ds_name, ds.read_scalar::<f64>().map_err(err)?));
                } else if ds_name == crate::result::REPLICA_RESULTS {
                    let columns = read_str(&ds, "columns").map_err(err)?;
                    replicas = (ds.read_raw::<f64>().map_err(err)?, columns);
                }
            }
            let notes = read_str(&g, "notes")
                .map(|n| n.lines().map(str::to_string).collect())
                .unwrap_or_default();
            out.push(PointRecord {
                index,
                params,
                seed: int("seed")?,
                photons: int("photons")?,
                photon_steps: int("photon_steps")?,
                wall_time_s: num("wall_time_s")?,
                scalars,
                replicas,
                notes,
            });
        }
        Ok(out)
    }

    /// A dataset of point `index` as a flat vector with its shape.
    pub fn dataset(&self, index: usize, name: &str) -> Result<(Vec<usize>, Vec<f64>)> {
        let g = self.point_group(index)?;
        let err = |e: hdf5::Error| Error::hdf5(g.filename(), e);
        let ds = g.dataset(name).map_err(err)?;
        Ok((ds.shape(), ds.read_raw::<f64>().map_err(err)?))
    }
}
