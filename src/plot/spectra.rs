//! The spectra figure: the edge spectrum of every point, absolute on a log axis, and
//! beside it their peak and FWHM against the swept value, or the spectra normalised.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::analysis::{self, FLUENCE_KEY};
use crate::error::Result;
use crate::output::{OutputReader, PointRecord};

use super::draw::{
    Drawn, Figure, axes, axis_label, e, font, labelled, legend, lin_range, lin_tick, log_range,
    log_tick, point_label, shade,
};

/// How far a log axis of spectra reaches: to this many decades below the weakest
/// spectrum's peak, but no more than `SPECTRUM_DECADES` below the strongest one's.
const SPECTRUM_DECADES_BELOW_WEAKEST: f64 = 1.5;
const SPECTRUM_DECADES: f64 = 10.0;

pub(super) struct Spectra {
    /// (label, wavelength nm, photons per nm) of every point.
    spectra: Vec<(String, Vec<f64>, Vec<f64>)>,
    /// The standard error of each point's spectrum, photons per nm (empty where the
    /// file has none).
    errors: Vec<Vec<f64>>,
    /// Peak and FWHM against the swept value, when there is a sweep.
    trend: Option<Trend>,
}

/// The edge peak wavelength and FWHM against a swept value (repeats averaged), each
/// (swept value, value, standard error).
struct Trend {
    label: String,
    log_x: bool,
    peak: Vec<(f64, f64, f64)>,
    fwhm: Vec<(f64, f64, f64)>,
}

/// The named scalar and its standard error (NaN where the file has none) at each
/// value of `key`, ascending (repeats over seeds averaged, their errors combined).
fn with_errors(points: &[PointRecord], key: &str, name: &str) -> Vec<(f64, f64, f64)> {
    let values = analysis::curve(points, key, name);
    let errors = analysis::curve_stderr(points, key, name);
    values
        .into_iter()
        .map(|(x, v)| {
            let err = errors.iter().find(|p| p.0 == x).map_or(f64::NAN, |p| p.1);
            (x, v, err)
        })
        .collect()
}

/// The edge spectrum of every point, per nm, and its peak and FWHM against the first
/// swept key other than the seed.
pub(super) fn read(reader: &OutputReader, points: &[PointRecord]) -> Result<Spectra> {
    let mut spectra = Vec::new();
    let mut errors = Vec::new();
    for p in points {
        let (_, nm) = reader.dataset(p.index, "wavelength_nm")?;
        let (_, counts) = reader.dataset(p.index, "edge_spectrum")?;
        let bin = (nm.last().unwrap_or(&0.0) - nm[0]) / (nm.len().max(2) - 1) as f64;
        let per_nm = counts.iter().map(|c| c / bin).collect();
        spectra.push((point_label(p), nm, per_nm));
        let err = reader
            .dataset(p.index, "edge_spectrum_stderr")
            .map_or(Vec::new(), |(_, e)| e.iter().map(|c| c / bin).collect());
        errors.push(err);
    }
    let trend = reader
        .swept_keys
        .iter()
        .find(|k| k.as_str() != analysis::REPEAT_KEY)
        .map(|key| {
            let peak = with_errors(points, key, "edge_peak_nm");
            let fwhm = with_errors(points, key, "edge_fwhm_nm");
            Trend {
                label: axis_label(key),
                log_x: key == FLUENCE_KEY,
                peak,
                fwhm,
            }
        });
    Ok(Spectra {
        spectra,
        errors,
        trend,
    })
}

impl Figure for Spectra {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
        let x = self
            .spectra
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        self.draw_spectra(&left, x)?;
        self.draw_right(&right, x)
    }
}

impl Spectra {
    /// The edge spectra on log axes, each with its error band, on `left`.
    fn draw_spectra<DB: DrawingBackend>(
        &self,
        left: &DrawingArea<DB, Shift>,
        x: (f64, f64),
    ) -> Drawn {
        let peaks: Vec<f64> = self
            .spectra
            .iter()
            .map(|s| s.2.iter().copied().fold(0.0f64, f64::max))
            .filter(|p| *p > 0.0)
            .collect();
        let top = peaks.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
        // Down to a few percent of the weakest spectrum's peak.
        let weakest = peaks.iter().copied().fold(top, f64::min);
        let floor = (weakest * 10f64.powf(-SPECTRUM_DECADES_BELOW_WEAKEST))
            .max(top * 10f64.powf(-SPECTRUM_DECADES));
        let n = self.spectra.len();

        let mut chart = ChartBuilder::on(left)
            .caption("Edge spectra", font(24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x.0..x.1, (floor..top * 2.0).log_scale())
            .map_err(e)?;
        axes(
            &mut chart,
            "wavelength (nm)",
            "edge output (photons/nm)",
            lin_tick,
            log_tick,
        )?;
        for (i, (label, nm, per_nm)) in self.spectra.iter().enumerate() {
            let colour = shade(i, n);
            // The standard error as a band (clamped to the axis floor).
            if let Some(err) = self.errors.get(i).filter(|e| e.len() == per_nm.len()) {
                let upper = nm
                    .iter()
                    .zip(per_nm)
                    .zip(err)
                    .map(|((l, v), s)| (*l, (v + s).max(floor)));
                let lower = nm
                    .iter()
                    .zip(per_nm)
                    .zip(err)
                    .rev()
                    .map(|((l, v), s)| (*l, (v - s).max(floor)));
                chart
                    .draw_series([Polygon::new(
                        upper.chain(lower).collect::<Vec<_>>(),
                        colour.mix(0.2).filled(),
                    )])
                    .map_err(e)?;
            }
            let line = nm.iter().zip(per_nm).map(|(l, v)| (*l, v.max(floor)));
            let series = chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(e)?;
            if labelled(i, n) {
                series.label(label.as_str()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        Ok(())
    }

    /// The FWHM and peak against the swept value where there is a sweep, else the
    /// spectra normalised to their peaks, on `right`.
    fn draw_right<DB: DrawingBackend>(
        &self,
        right: &DrawingArea<DB, Shift>,
        x: (f64, f64),
    ) -> Drawn {
        let n = self.spectra.len();
        match &self.trend {
            Some(t) => {
                let (upper, lower) = right.split_vertically(right.dim_in_pixel().1 / 2);
                let xs = t.fwhm.iter().chain(&t.peak).map(|p| p.0);
                let (name, unit) = ("FWHM", "edge FWHM (nm)");
                if t.log_x {
                    let x = log_range(xs, 1.15);
                    trend_panel(&upper, (x.0..x.1).log_scale(), &t.fwhm, name, unit, None)?;
                    trend_panel(
                        &lower,
                        (x.0..x.1).log_scale(),
                        &t.peak,
                        "peak",
                        "edge peak (nm)",
                        Some(&t.label),
                    )
                } else {
                    let x = lin_range(xs, None);
                    trend_panel(&upper, x.0..x.1, &t.fwhm, name, unit, None)?;
                    trend_panel(
                        &lower,
                        x.0..x.1,
                        &t.peak,
                        "peak",
                        "edge peak (nm)",
                        Some(&t.label),
                    )
                }
            }
            None => {
                let mut chart = ChartBuilder::on(right)
                    .caption("Edge spectrum, normalised to its peak", font(24))
                    .margin(16)
                    .x_label_area_size(50)
                    .y_label_area_size(60)
                    .build_cartesian_2d(x.0..x.1, 0.0..1.05)
                    .map_err(e)?;
                axes(
                    &mut chart,
                    "wavelength (nm)",
                    "normalised edge output",
                    lin_tick,
                    lin_tick,
                )?;
                for (i, (_, nm, per_nm)) in self.spectra.iter().enumerate() {
                    let peak = per_nm.iter().copied().fold(0.0f64, f64::max);
                    if peak > 0.0 {
                        let line = nm.iter().zip(per_nm).map(|(l, v)| (*l, v / peak));
                        chart
                            .draw_series(LineSeries::new(line, shade(i, n).stroke_width(2)))
                            .map_err(e)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// One panel of a spectral quantity against the swept value; `x_desc` on the lowest.
fn trend_panel<DB: DrawingBackend, X>(
    area: &DrawingArea<DB, Shift>,
    x: X,
    values: &[(f64, f64, f64)],
    name: &str,
    y_desc: &str,
    x_desc: Option<&str>,
) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let bounded = |p: &(f64, f64, f64)| if p.2.is_finite() { p.2 } else { 0.0 };
    let y = lin_range(
        values
            .iter()
            .flat_map(|p| [p.1 - bounded(p), p.1 + bounded(p)]),
        None,
    );
    let mut builder = ChartBuilder::on(area);
    if x_desc.is_none() {
        builder.caption("Edge FWHM and peak wavelength", font(24));
    }
    let mut chart = builder
        .margin(16)
        .x_label_area_size(if x_desc.is_some() { 50 } else { 20 })
        .y_label_area_size(60)
        .build_cartesian_2d(x, y.0..y.1)
        .map_err(e)?;
    axes(&mut chart, x_desc.unwrap_or(""), y_desc, log_tick, lin_tick)?;
    let colour = if name == "FWHM" { BLUE } else { RED };
    chart
        .draw_series(LineSeries::new(
            values.iter().map(|p| (p.0, p.1)),
            colour.mix(0.5).stroke_width(1),
        ))
        .map_err(e)?;
    chart
        .draw_series(
            values
                .iter()
                .filter(|p| p.2.is_finite() && p.2 > 0.0)
                .map(|p| {
                    ErrorBar::new_vertical(
                        p.0,
                        p.1 - p.2,
                        p.1,
                        p.1 + p.2,
                        colour.stroke_width(1),
                        6,
                    )
                }),
        )
        .map_err(e)?;
    chart
        .draw_series(
            values
                .iter()
                .map(|p| Circle::new((p.0, p.1), 4, colour.filled())),
        )
        .map_err(e)?;
    Ok(())
}
