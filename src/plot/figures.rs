//! The entry point `plot`: read a finished run, choose the figures its results allow,
//! and save each; the data of the light-in/light-out, VSL and passive figures.

use std::path::{Path, PathBuf};

use crate::analysis::{self, Analysis, FLUENCE_KEY, FitOptions, LENGTH_KEY};
use crate::error::{Error, Result};
use crate::output::{OutputReader, PointRecord};

use super::draw::{DOUBLE, SINGLE, axis_label, point_label, register_font, save};
use super::escape::{ESCAPE_CHANNELS, Escape, Fractions};
use super::time_of_flight::TimeOfFlight;
use super::{evolution, spectra};

/// What `asemc plot` should draw.
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// The point whose populations and gain are drawn (default: the last point).
    pub point: Option<usize>,
    /// Stripe-length range of the gain fit.
    pub fit: FitOptions,
}

/// What `plot` wrote, and why a figure lacks what it could have shown.
#[derive(Debug, Clone, Default)]
pub struct PlotReport {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

/// Draw every figure `file` allows into `dir`.
pub fn plot(file: &Path, dir: &Path, opts: &PlotOptions) -> Result<PlotReport> {
    let reader = OutputReader::open(file)?;
    let points = reader.points()?;
    if points.is_empty() {
        return Err(Error::Input {
            path: file.to_path_buf(),
            message: "no finished points to plot".into(),
        });
    }
    let evolution_point = match opts.point {
        Some(k) if !points.iter().any(|p| p.index == k) => {
            return Err(Error::Usage(format!(
                "--point {k}: {} has no finished point {k} (points {})",
                file.display(),
                index_list(&points)
            )));
        }
        Some(k) => k,
        None => points[points.len() - 1].index,
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    register_font();
    let mut written = Vec::new();
    let mut notes = Vec::new();
    if !points[0].scalars.iter().any(|(k, _)| k == "edge_photons") {
        passive(&reader, &points, dir, evolution_point, &mut written)?;
        return Ok(PlotReport {
            files: written,
            notes,
        });
    }
    let seed = reader.root_u64("seed").unwrap_or(0);
    let swept = |k: &str| reader.swept_keys.iter().any(|s| s == k);
    // A sweep without a fit still gets its curves, only without the fitted lines.
    let analysis = match analysis::analyse(&points, &reader.swept_keys, &opts.fit, seed) {
        Ok(a) => {
            notes.extend(a.warnings.iter().map(|w| format!("fit: {w}")));
            a
        }
        Err(why) => {
            if swept(FLUENCE_KEY) || swept(LENGTH_KEY) {
                notes.push(format!("no fit drawn: {why}"));
            }
            Analysis::default()
        }
    };

    if swept(FLUENCE_KEY) {
        let fig = EdgeCurve::along(&points, FLUENCE_KEY, analysis.threshold.as_ref());
        save(&fig, SINGLE, dir, "light_in_out", &mut written)?;
    }
    if swept(LENGTH_KEY) {
        let fig = EdgeCurve::along(&points, LENGTH_KEY, analysis.gain.as_ref());
        save(&fig, SINGLE, dir, "vsl", &mut written)?;
    }

    let fig = spectra::read(&reader, &points)?;
    save(&fig, DOUBLE, dir, "spectra", &mut written)?;

    let k = evolution_point;
    let fig = evolution::read(&reader, &points, k)?;
    save(
        &fig,
        DOUBLE,
        dir,
        &format!("evolution_point_{k}"),
        &mut written,
    )?;
    Ok(PlotReport {
        files: written,
        notes,
    })
}

/// The figures of a passive-transport run (pencil or isotropic source): where the
/// light goes against the swept value, and the time of flight of point `k`.
fn passive(
    reader: &OutputReader,
    points: &[PointRecord],
    dir: &Path,
    k: usize,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let key = reader
        .swept_keys
        .iter()
        .find(|k| k.as_str() != analysis::REPEAT_KEY)
        .cloned();
    let x = |p: &PointRecord| match &key {
        Some(key) => p
            .params
            .iter()
            .find(|(k, _)| k == key)
            .map_or(f64::NAN, |v| v.1),
        None => p.index as f64,
    };
    let value = |p: &PointRecord, names: &[&str]| {
        let get = |n: &str| p.scalars.iter().find(|(k, _)| k == n).map_or(0.0, |v| v.1);
        let sum: f64 = names.iter().map(|n| get(n)).sum();
        // Standard errors added in quadrature: the channels of one packet exclude each
        // other, so this is an upper bound.
        let err = names
            .iter()
            .map(|n| get(&format!("{n}_stderr")).powi(2))
            .sum::<f64>()
            .sqrt();
        (sum, err)
    };
    let channels: Vec<(String, Fractions)> = ESCAPE_CHANNELS
        .iter()
        .map(|(label, names)| {
            let rows = points
                .iter()
                .map(|p| {
                    let (v, e) = value(p, names);
                    (x(p), v, e)
                })
                .collect::<Vec<_>>();
            (label.to_string(), rows)
        })
        .filter(|(_, rows)| rows.iter().any(|r| r.1 > 0.0))
        .collect();
    let fig = Escape {
        x_label: key.as_deref().map_or("point".to_string(), axis_label),
        channels,
    };
    save(&fig, SINGLE, dir, "escape", written)?;

    let (_, time) = reader.dataset(k, "time_ps")?;
    let (shape, flight) = reader.dataset(k, "time_of_flight")?;
    let p = points
        .iter()
        .find(|p| p.index == k)
        .expect("checked by the caller");
    let fig = TimeOfFlight {
        title: point_label(p),
        time,
        rows: shape.first().copied().unwrap_or(0),
        flight,
    };
    save(
        &fig,
        SINGLE,
        dir,
        &format!("time_of_flight_point_{k}"),
        written,
    )
}

fn index_list(points: &[PointRecord]) -> String {
    let first = points[0].index;
    let last = points[points.len() - 1].index;
    if last + 1 - first == points.len() {
        format!("{first}–{last}")
    } else {
        points
            .iter()
            .map(|p| p.index.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The edge output along a swept key, every independent run's (`all`: replicas and
/// seeds) and the mean at each value with its standard error, with the fit of it if
/// there is one: the light-in/light-out figure (`F` the threshold fit,
/// `light_in_out`) and the VSL figure (`F` the gain fit, `vsl`).
pub(super) struct EdgeCurve<'a, F> {
    pub(super) all: Vec<(f64, f64)>,
    /// (swept value, mean, standard error).
    pub(super) mean: Vec<(f64, f64, f64)>,
    pub(super) fit: Option<&'a F>,
}

impl<'a, F> EdgeCurve<'a, F> {
    /// The edge output of `points` along `key`, with `fit`.
    fn along(points: &[PointRecord], key: &str, fit: Option<&'a F>) -> Self {
        let runs = analysis::repeats(points, key, "edge_photons");
        Self {
            all: runs
                .iter()
                .flat_map(|(x, ys)| ys.iter().map(move |y| (*x, *y)))
                .collect(),
            mean: runs
                .iter()
                .map(|(x, ys)| {
                    let (m, err) = crate::ase::replicas::mean_and_stderr(ys);
                    (*x, m, err)
                })
                .collect(),
            fit,
        }
    }
}
