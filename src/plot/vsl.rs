//! The variable-stripe-length figure: edge output against stripe length, with the fit
//! of `I = A/g·(e^{gL} − 1)` over its range and continued dashed outside it.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis;

use super::draw::{
    Drawn, Figure, axes, e, font, legend, lin_tick, log_range, log_tick, measured, significant,
};
use super::figures::EdgeCurve;

impl Figure for EdgeCurve<'_, analysis::Gain> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let x_hi = self.all.iter().map(|p| p.0).fold(0.0f64, f64::max) * 1.05;
        // Log output axis: the exponential is a line, and short and long stripes,
        // decades apart, are both visible (the fits use log residuals too).
        let fitted = self
            .fit
            .iter()
            .flat_map(|g| [g.range_um.0, g.range_um.1].map(|l| g.fit.predict(l * 1e-4)));
        let y = log_range(self.all.iter().map(|p| p.1).chain(fitted), 2.0);
        let mut chart = ChartBuilder::on(root)
            .caption("Variable stripe length", font(24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..x_hi, (y.0..y.1).log_scale())
            .map_err(e)?;
        axes(
            &mut chart,
            "stripe length (µm)",
            "integrated edge output (photons)",
            lin_tick,
            log_tick,
        )?;
        if let Some(g) = self.fit {
            let model = |l_um: f64| g.fit.predict(l_um * 1e-4);
            let (a, b) = g.range_um;
            let inside: Vec<(f64, f64)> = (0..=200)
                .map(|i| a + (b - a) * i as f64 / 200.0)
                .map(|l| (l, model(l)))
                .collect();
            chart
                .draw_series(LineSeries::new(inside, BLUE.stroke_width(2)))
                .map_err(e)?
                .label(format!(
                    "I = A/g (exp(gL) − 1): g = {} ± {} cm⁻¹ ({}–{} µm)",
                    significant(g.fit.gain),
                    significant(g.fit.gain_uncertainty),
                    significant(a),
                    significant(b)
                ))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
            // The fitted curve continued outside the fitted range, dashed.
            for (from, to) in [(0.0, a), (b, x_hi)] {
                if to > from {
                    let outside: Vec<(f64, f64)> = (0..=100)
                        .map(|i| from + (to - from) * i as f64 / 100.0)
                        .map(|l| (l, model(l)))
                        .filter(|p| p.1 >= y.0 && p.1 <= y.1)
                        .collect();
                    chart
                        .draw_series(DashedLineSeries::new(outside, 6, 5, BLUE.mix(0.6).into()))
                        .map_err(e)?;
                }
            }
        }
        measured(&mut chart, &self.all, &self.mean)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}
