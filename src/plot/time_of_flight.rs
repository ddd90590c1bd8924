//! The time-of-flight figure of one point of a passive-transport run: the light
//! leaving by each face against the time since launch.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{Drawn, Figure, axes, e, font, legend, lin_tick, log_tick};

/// Rows of the `time_of_flight` dataset, in order.
const FLIGHT_ROWS: [&str; 6] = ["top", "bottom", "edge x−", "edge x+", "edge y−", "edge y+"];

pub(super) struct TimeOfFlight {
    pub(super) title: String,
    pub(super) time: Vec<f64>,
    pub(super) rows: usize,
    /// Row-major [exit][bin]: fraction of launched photons per bin.
    pub(super) flight: Vec<f64>,
}

impl Figure for TimeOfFlight {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let bins = self.time.len();
        let top = self
            .flight
            .iter()
            .copied()
            .fold(0.0f64, f64::max)
            .max(1e-12);
        let floor = top * 1e-6;
        // Up to the last bin with light in it.
        let last = (0..bins)
            .rev()
            .find(|&b| (0..self.rows).any(|r| self.flight[r * bins + b] > 0.0))
            .unwrap_or(bins.saturating_sub(1));
        let t_hi = self.time.get(last).copied().unwrap_or(1.0) * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Time of flight, {}", self.title), font(24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..t_hi, (floor..top * 2.0).log_scale())
            .map_err(e)?;
        axes(
            &mut chart,
            "time since launch (ps)",
            "fraction of launched photons per bin",
            lin_tick,
            log_tick,
        )?;
        for (r, name) in FLIGHT_ROWS.iter().enumerate().take(self.rows) {
            let row = &self.flight[r * bins..(r + 1) * bins];
            if row.iter().all(|v| *v <= 0.0) {
                continue;
            }
            let colour = Palette99::pick(r).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    self.time.iter().zip(row).map(|(t, v)| (*t, v.max(floor))),
                    colour.stroke_width(2),
                ))
                .map_err(e)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
