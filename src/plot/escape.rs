//! The escape figure of a passive-transport run: the fraction of the light leaving or
//! absorbed by each way against the swept value.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{Drawn, Figure, axes, e, font, legend, lin_range, lin_tick};

/// The exits of a passive run drawn in `escape`, and the results summed for each.
pub(super) const ESCAPE_CHANNELS: [(&str, &[&str]); 6] = [
    (
        "reflected (top)",
        &["reflectance_diffuse", "reflectance_specular"],
    ),
    ("transmitted (bottom)", &["transmittance_total"]),
    (
        "film edges (all four)",
        &["edge_x_minus", "edge_x_plus", "edge_y_minus", "edge_y_plus"],
    ),
    ("absorbed in the film", &["absorbed_film"]),
    ("absorbed in the substrate", &["absorbed_substrate"]),
    ("guided for good", &["guided_fraction"]),
];

/// (x, fraction, standard error) of one exit at each point.
pub(super) type Fractions = Vec<(f64, f64, f64)>;

pub(super) struct Escape {
    pub(super) x_label: String,
    /// (label, fractions) of every exit with any weight.
    pub(super) channels: Vec<(String, Fractions)>,
}

impl Figure for Escape {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let xs = self.channels.iter().flat_map(|c| c.1.iter().map(|r| r.0));
        let x = lin_range(xs, None);
        let top = self
            .channels
            .iter()
            .flat_map(|c| c.1.iter().map(|r| r.1 + 2.0 * r.2))
            .fold(0.0f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption("Where the light goes", font(24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x.0..x.1, 0.0..(top * 1.1).max(0.05))
            .map_err(e)?;
        axes(
            &mut chart,
            &self.x_label,
            "fraction of launched photons",
            lin_tick,
            lin_tick,
        )?;
        for (i, (label, rows)) in self.channels.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    rows.iter().map(|r| (r.0, r.1)),
                    colour.stroke_width(2),
                ))
                .map_err(e)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(rows.iter().map(|r| {
                    ErrorBar::new_vertical(
                        r.0,
                        r.1 - 2.0 * r.2,
                        r.1,
                        r.1 + 2.0 * r.2,
                        colour.filled(),
                        6,
                    )
                }))
                .map_err(e)?;
            chart
                .draw_series(
                    rows.iter()
                        .map(|r| Circle::new((r.0, r.1), 4, colour.filled())),
                )
                .map_err(e)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
