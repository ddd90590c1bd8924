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

/// An opened output file.
pub struct OutputReader {
    file: hdf5::File,
    pub swept_keys: Vec<String>,
}

impl OutputReader {
    /// Open `path`, checking it is an asemc output file.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        let file = super::h5file::open(path).map_err(|_| Error::Input {
            path: path.to_path_buf(),
            message: "not a readable HDF5 file (corrupt, truncated, or another format)".into(),
        })?;
        match read_str(&file, "format") {
            Ok(f) if f == FORMAT => {}
            _ => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: "an HDF5 file, but not an asemc output file (no root attribute format = \"asemc\")".into(),
                });
            }
        }
        let swept_keys = read_str(&file, "swept_keys")
            .map_err(|e| Error::hdf5(path, e))?
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Self { file, swept_keys })
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

    /// The underlying HDF5 file.
    pub(crate) fn file(&self) -> &hdf5::File {
        &self.file
    }

    /// The groups of the finished points (those with `complete`): index → group name,
    /// in point order.
    pub(crate) fn complete_groups(&self) -> Result<BTreeMap<usize, String>> {
        let path = self.file.filename();
        let err = |e: hdf5::Error| Error::hdf5(&path, e);
        let group = self.file.group(POINTS_GROUP).map_err(err)?;
        let mut out = BTreeMap::new();
        for name in group.member_names().map_err(err)? {
            let g = group.group(&name).map_err(err)?;
            if g.attr("complete").is_err() {
                continue;
            }
            let index = g
                .attr("index")
                .and_then(|a| a.read_scalar::<u64>())
                .map_err(err)?;
            out.insert(index as usize, name);
        }
        Ok(out)
    }

    /// The finished points, in point order.
    pub fn points(&self) -> Result<Vec<PointRecord>> {
        let path = self.file.filename();
        let err = |e: hdf5::Error| Error::hdf5(&path, e);
        let group = self.file.group(POINTS_GROUP).map_err(err)?;
        let mut out = Vec::new();
        for (index, name) in self.complete_groups()? {
            let g = group.group(&name).map_err(err)?;
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
        let path = self.file.filename();
        let err = |e: hdf5::Error| Error::hdf5(&path, e);
        let group = self.file.group(POINTS_GROUP).map_err(err)?;
        let total = self
            .file
            .attr("points_total")
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(err)?;
        let pname = super::writer::point_name(index, total as usize);
        let ds = group
            .group(&pname)
            .and_then(|g| g.dataset(name))
            .map_err(err)?;
        Ok((ds.shape(), ds.read_raw::<f64>().map_err(err)?))
    }
}
