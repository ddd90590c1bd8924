//! The light-in/light-out figure: integrated edge output against pump fluence on log
//! axes, with the two-line fit and the threshold with its 95 % band.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis;

use super::draw::{
    Drawn, Figure, axes, e, font, legend, log_grid, log_range, log_tick, measured, significant,
};
use super::figures::EdgeCurve;

impl Figure for EdgeCurve<'_, analysis::Threshold> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let x = log_range(self.all.iter().map(|p| p.0), 1.25);
        let y = log_range(self.all.iter().map(|p| p.1), 2.0);
        let mut chart = ChartBuilder::on(root)
            .caption("Light-in/light-out at the detector edge", font(24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((x.0..x.1).log_scale(), (y.0..y.1).log_scale())
            .map_err(e)?;
        axes(
            &mut chart,
            "pump fluence (µJ/cm²)",
            "integrated edge output (photons)",
            log_tick,
            log_tick,
        )?;
        if let Some(t) = self.fit {
            let (lo, hi) = (
                (t.fit.knee - t.uncertainty).max(x.0),
                (t.fit.knee + t.uncertainty).min(x.1),
            );
            chart
                .draw_series([Rectangle::new(
                    [(lo, y.0), (hi, y.1)],
                    RED.mix(0.12).filled(),
                )])
                .map_err(e)?;
            chart
                .draw_series(DashedLineSeries::new(
                    [(t.fit.knee, y.0), (t.fit.knee, y.1)],
                    8,
                    5,
                    RED.stroke_width(2),
                ))
                .map_err(e)?
                .label(format!(
                    "threshold {} ± {} µJ/cm² (<N> = {})",
                    significant(t.fit.knee),
                    significant(t.uncertainty),
                    significant(t.mean_excitons)
                ))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
            let line: Vec<(f64, f64)> = log_grid(x.0, x.1, 300)
                .map(|f| (f, t.fit.predict(f)))
                .filter(|p| p.1 > 0.0)
                .collect();
            chart
                .draw_series(LineSeries::new(line, BLUE.mix(0.6).stroke_width(2)))
                .map_err(e)?
                .label("two-line fit")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        }
        measured(&mut chart, &self.all, &self.mean)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}
