//! The evolution figure of one point: the platelet populations in the stripe and the
//! net material gain spectrum at the stripe centre over time.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::Result;
use crate::output::{OutputReader, PointRecord};

use super::draw::{
    Drawn, Figure, axes, e, font, labelled, legend, lin_range, lin_tick, point_label, shade,
    significant,
};

/// Exciton numbers whose populations are drawn one by one; higher ones are summed.
const SHOWN_EXCITONS: usize = 3;

pub(super) struct Evolution {
    title: String,
    /// Snapshot times, ps.
    times: Vec<f64>,
    /// Columns of `populations` (n = 0, 1, …).
    width: usize,
    /// Row-major [snapshot][n]: fraction of the stripe's platelets holding n excitons.
    populations: Vec<f64>,
    nm: Vec<f64>,
    /// Row-major [snapshot][bin]: net material gain at the stripe centre, cm⁻¹.
    gain: Vec<f64>,
}

/// The populations and net gain spectra of point `k` at its snapshots.
pub(super) fn read(reader: &OutputReader, points: &[PointRecord], k: usize) -> Result<Evolution> {
    let (_, times) = reader.dataset(k, "snapshot_time_ps")?;
    let (shape, populations) = reader.dataset(k, "populations")?;
    let (_, nm) = reader.dataset(k, "wavelength_nm")?;
    let (_, gain) = reader.dataset(k, "gain_spectrum")?;
    let p = points.iter().find(|p| p.index == k).expect("checked above");
    Ok(Evolution {
        title: point_label(p),
        times,
        width: shape.get(1).copied().unwrap_or(1),
        populations,
        nm,
        gain,
    })
}

impl Figure for Evolution {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
        let t_hi = self.times.iter().copied().fold(0.0f64, f64::max).max(1e-3) * 1.02;
        let snapshots = self.times.len();

        let mut chart = ChartBuilder::on(&left)
            .caption(
                format!("Populations in the stripe, {}", self.title),
                font(22),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..t_hi, 0.0..1.02)
            .map_err(e)?;
        axes(
            &mut chart,
            "time after the pump (ps)",
            "fraction of platelets",
            lin_tick,
            lin_tick,
        )?;
        // n = 0 … SHOWN_EXCITONS one by one; the rest summed (they live only picoseconds).
        let colours = [BLUE, GREEN, RED, MAGENTA, BLACK];
        let groups = self.width.clamp(1, SHOWN_EXCITONS + 2);
        for group in 0..groups {
            let (from, to, label) = if group <= SHOWN_EXCITONS || self.width == group + 1 {
                (group, group + 1, format!("n = {group}"))
            } else {
                (group, self.width, format!("n ≥ {group}"))
            };
            let colour = colours[group.min(colours.len() - 1)];
            let line = (0..snapshots).map(|s| {
                let row = &self.populations[s * self.width..(s + 1) * self.width];
                (self.times[s], row[from..to].iter().sum::<f64>())
            });
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;

        let bins = self.nm.len();
        let x = (self.nm[0], self.nm[bins - 1]);
        let y = lin_range(self.gain.iter().copied(), Some(0.0));
        let mut chart = ChartBuilder::on(&right)
            .caption("Net material gain at the stripe centre", font(22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(e)?;
        axes(
            &mut chart,
            "wavelength (nm)",
            "net material gain (cm⁻¹)",
            lin_tick,
            lin_tick,
        )?;
        chart
            .draw_series(LineSeries::new([(x.0, 0.0), (x.1, 0.0)], BLACK.mix(0.5)))
            .map_err(e)?;
        for s in 0..snapshots {
            let colour = shade(s, snapshots);
            let line = (0..bins).map(|b| (self.nm[b], self.gain[s * bins + b]));
            let series = chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(e)?;
            if labelled(s, snapshots) {
                series
                    .label(format!("t = {} ps", significant(self.times[s])))
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
