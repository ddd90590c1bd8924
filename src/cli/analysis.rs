//! `asemc summary`, `fit` and `plot`: the results of a finished run printed, its
//! threshold or gain fitted, and its figures drawn.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::analysis::{self, Analysis, FitOptions};
use crate::error::{Error, Result};
use crate::output::{OutputReader, PointRecord};
use crate::plot::{self, PlotOptions};

use super::emit;

/// A point's index and swept values, the start of its JSON object.
fn point_identity(p: &PointRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("index".into(), json!(p.index));
    for (k, v) in &p.params {
        m.insert(k.clone(), json!(v));
    }
    m
}

pub(super) fn summary(file: &Path, as_json: bool) -> Result<()> {
    let mut out = String::new();
    let reader = OutputReader::open(file)?;
    let points = reader.points()?;
    if as_json {
        let list: Vec<Value> = points
            .iter()
            .map(|p| {
                let mut m = point_identity(p);
                m.insert("seed".into(), json!(p.seed));
                m.insert("photons".into(), json!(p.photons));
                m.insert("photon_steps".into(), json!(p.photon_steps));
                m.insert("wall_time_s".into(), json!(p.wall_time_s));
                for (k, v) in &p.scalars {
                    m.insert(k.clone(), json!(v));
                }
                Value::Object(m)
            })
            .collect();
        let mut v = json!({ "points": list });
        if let Ok(a) = analyse(&reader, file, &points, &FitOptions::default()) {
            v["fit"] = a.to_json();
        }
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    writeln!(out, "{}: {} point(s)", file.display(), points.len()).ok();
    for p in &points {
        let params: Vec<String> = p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        writeln!(
            out,
            "point {}{}",
            p.index,
            if params.is_empty() {
                String::new()
            } else {
                format!(": {}", params.join(", "))
            }
        )
        .ok();
        for (k, v) in &p.scalars {
            if k.ends_with("_stderr") {
                continue;
            }
            let err = p
                .scalars
                .iter()
                .find(|(n, _)| *n == format!("{k}_stderr"))
                .map(|(_, e)| format!(" ± {e:.6}"))
                .unwrap_or_default();
            writeln!(out, "  {k:<24} {v:.6}{err}").ok();
        }
    }
    if let Ok(a) = analyse(&reader, file, &points, &FitOptions::default()) {
        out += &a.to_text();
    }
    emit(&out)
}

/// The fits a file's `points` allow, or why none applies.
pub(super) fn analyse(
    reader: &OutputReader,
    file: &Path,
    points: &[PointRecord],
    opts: &FitOptions,
) -> Result<Analysis> {
    let seed = reader.root_u64("seed").unwrap_or(0);
    analysis::analyse(points, &reader.swept_keys, opts, seed).map_err(|message| Error::Input {
        path: file.to_path_buf(),
        message,
    })
}

/// The stripe-length range of the gain fit must be lengths.
fn check_fit_options(opts: &FitOptions) -> Result<()> {
    for (name, v) in [
        ("--min-length-um", opts.min_length_um),
        ("--max-length-um", opts.max_length_um),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(Error::Usage(format!("{name} {v}: must be a length ≥ 0")));
        }
    }
    Ok(())
}

pub(super) fn fit(file: &Path, as_json: bool, opts: &FitOptions) -> Result<()> {
    check_fit_options(opts)?;
    let reader = OutputReader::open(file)?;
    let points = reader.points()?;
    let analysis = analyse(&reader, file, &points, opts)?;
    let per_point: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut m = point_identity(p);
            for name in ["edge_photons", "edge_peak_nm", "edge_fwhm_nm"] {
                let v = p.scalars.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
                m.insert(name.into(), json!(v));
            }
            Value::Object(m)
        })
        .collect();
    let mut out = String::new();
    if as_json {
        let mut v = analysis.to_json();
        v["points"] = Value::Array(per_point);
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
    } else {
        out += &analysis.to_text();
        writeln!(out, "point\tedge photons\tpeak nm\tFWHM nm").ok();
        for p in &per_point {
            let f = |k: &str| p[k].as_f64().map_or("-".to_string(), |v| format!("{v:.4}"));
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                p["index"],
                p["edge_photons"]
                    .as_f64()
                    .map_or("-".into(), |v| format!("{v:.4e}")),
                f("edge_peak_nm"),
                f("edge_fwhm_nm")
            )
            .ok();
        }
    }
    emit(&out)
}

/// Draw the figures of `file` into the directory `output`.
pub(super) fn plot(
    file: PathBuf,
    output: PathBuf,
    point: Option<usize>,
    min_length_um: Option<f64>,
    max_length_um: Option<f64>,
) -> Result<()> {
    let fit = FitOptions {
        min_length_um,
        max_length_um,
    };
    check_fit_options(&fit)?;
    let report = plot::plot(&file, &output, &PlotOptions { point, fit })?;
    for note in &report.notes {
        eprintln!("asemc: {note}");
    }
    let mut out = String::new();
    for path in report.files {
        writeln!(out, "{}", path.display()).ok();
    }
    emit(&out)
}
