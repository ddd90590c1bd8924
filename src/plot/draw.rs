//! The drawing plumbing every figure shares: the embedded font, SVG and PNG writing,
//! axes, legends, tick and legend labels, and colours.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use crate::analysis::{FLUENCE_KEY, LENGTH_KEY};
use crate::error::{Error, Result};
use crate::output::PointRecord;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans.LICENSE`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";
/// Size of a one-panel and of a two-panel figure, SVG pixels.
pub const SINGLE: (u32, u32) = (900, 600);
pub const DOUBLE: (u32, u32) = (1500, 600);
/// Most legend entries a figure lists (more points are drawn, but every k-th labelled).
const MAX_LEGEND: usize = 12;

pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary; failing to parse it is a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans does not parse"));
    });
}

/// The axis title of a swept key.
pub(super) fn axis_label(key: &str) -> String {
    match key {
        FLUENCE_KEY => "pump fluence (µJ/cm²)".into(),
        LENGTH_KEY => "stripe length (µm)".into(),
        _ => key.to_string(),
    }
}

/// A short legend label for a point: its swept values with units.
pub(super) fn point_label(p: &PointRecord) -> String {
    if p.params.is_empty() {
        return format!("point {}", p.index);
    }
    p.params
        .iter()
        .map(|(k, v)| match k.as_str() {
            FLUENCE_KEY => format!("{} µJ/cm²", significant(*v)),
            LENGTH_KEY => format!("{} µm", significant(*v)),
            _ => format!(
                "{} = {}",
                k.rsplit('.').next().unwrap_or(k),
                significant(*v)
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Three significant digits without trailing zeros.
pub(super) fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `n` points spaced evenly in log between `lo` and `hi`.
pub(super) fn log_grid(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> + Clone {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n).map(move |i| (a + (b - a) * i as f64 / (n - 1) as f64).exp())
}

/// A log-axis range around positive values, with a margin of `pad` in factor.
pub(super) fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if hi <= 0.0 {
        return (0.1, 10.0);
    }
    let (lo, hi) = if hi / lo < 1.5 {
        (lo / 1.5, hi * 1.5)
    } else {
        (lo, hi)
    };
    (lo / pad, hi * pad)
}

/// A linear-axis range covering `values` and `floor`, with a 5 % margin.
pub(super) fn lin_range(values: impl Iterator<Item = f64>, floor: Option<f64>) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if let Some(f) = floor {
        lo = lo.min(f);
        hi = hi.max(f);
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        (lo, hi) = (lo - 1.0, hi + 1.0);
    }
    let m = 0.05 * (hi - lo);
    (lo - m, hi + m)
}

/// Label of a log-axis tick: plain for 0.01–9999, otherwise in powers of ten.
pub(super) fn log_tick(v: &f64) -> String {
    if (0.01..1e4).contains(&v.abs()) {
        significant(*v)
    } else {
        format!("{v:.0e}")
    }
}

/// Label of a linear-axis tick.
pub(super) fn lin_tick(v: &f64) -> String {
    if *v == 0.0 || (0.01..1e5).contains(&v.abs()) {
        significant(*v)
    } else {
        format!("{v:.1e}")
    }
}

/// The colour of entry `i` of `n` (viridis, without its palest yellow).
pub(super) fn shade(i: usize, n: usize) -> RGBColor {
    let h = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        0.0
    };
    ViridisRGB.get_color(0.9 * h)
}

/// Whether entry `i` of `n` gets a legend label.
pub(super) fn labelled(i: usize, n: usize) -> bool {
    let every = n.div_ceil(MAX_LEGEND);
    i.is_multiple_of(every) || i + 1 == n
}

pub(super) type Drawn = std::result::Result<(), String>;

pub(super) fn e(err: impl Display) -> String {
    err.to_string()
}

pub(super) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// A figure drawn the same way on any backend.
pub(super) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn;
}

/// Draw `fig` as `dir/stem.svg`, and rasterise that SVG into `dir/stem.png` at
/// `PNG_SCALE` pixels per SVG pixel, so the two files show the same figure.
pub(super) fn save(
    fig: &impl Figure,
    size: (u32, u32),
    dir: &Path,
    stem: &str,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    let failed = |path: &Path, message: String| {
        Error::Runtime(format!(
            "{}: cannot draw the figure: {message}",
            path.display()
        ))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(e)
            .and_then(|_| fig.draw(&root))
            .and_then(|_| root.present().map_err(e))
            .map_err(|m| failed(&svg_path, m))?;
    }
    std::fs::write(&svg_path, &svg).map_err(|source| Error::Io {
        path: svg_path.clone(),
        source,
    })?;
    written.push(svg_path);
    let pixmap = rasterise(&svg, size).map_err(|m| failed(&png_path, m))?;
    pixmap
        .save_png(&png_path)
        .map_err(|err| failed(&png_path, err.to_string()))?;
    written.push(png_path);
    Ok(())
}

/// Pixels of the PNG per pixel of the SVG.
pub const PNG_SCALE: u32 = 2;

/// Render an SVG of `size` pixels with the embedded font, PNG_SCALE times larger.
fn rasterise(svg: &str, size: (u32, u32)) -> std::result::Result<Pixmap, String> {
    let mut options = usvg::Options::default();
    let fonts = std::sync::Arc::make_mut(&mut options.fontdb);
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    let tree = usvg::Tree::from_str(svg, &options).map_err(e)?;
    let mut pixmap =
        Pixmap::new(size.0 * PNG_SCALE, size.1 * PNG_SCALE).ok_or("figure size out of range")?;
    let scale = PNG_SCALE as f32;
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}

/// Grid, tick labels and axis titles, the style of every figure.
pub(super) fn axes<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_tick: fn(&f64) -> String,
    y_tick: fn(&f64) -> String,
) -> Drawn
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style(font(15))
        .axis_desc_style(font(17))
        .light_line_style(BLACK.mix(0.05))
        .draw()
        .map_err(e)
}

/// The simulated points: the mean over the independent runs (replicas and seeds) with
/// its standard error as a bar, and each run faintly when there are several (zeros
/// are left off the log axes, and a bar reaching below zero stops at a tenth of its
/// point).
pub(super) fn measured<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    all: &[(f64, f64)],
    mean: &[(f64, f64, f64)],
) -> Drawn
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    if all.len() > mean.len() {
        chart
            .draw_series(
                all.iter()
                    .filter(|p| p.1 > 0.0)
                    .map(|p| Circle::new(*p, 3, BLACK.mix(0.35).filled())),
            )
            .map_err(e)?
            .label("single runs")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.mix(0.35).filled()));
    }
    chart
        .draw_series(
            mean.iter()
                .filter(|p| p.1 > 0.0 && p.2.is_finite() && p.2 > 0.0)
                .map(|&(x, y, err)| {
                    let low = if y - err > 0.0 { y - err } else { 0.1 * y };
                    ErrorBar::new_vertical(x, low, y, y + err, BLACK.stroke_width(2), 8)
                }),
        )
        .map_err(e)?;
    chart
        .draw_series(
            mean.iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| Circle::new((p.0, p.1), 5, BLACK.filled())),
        )
        .map_err(e)?
        .label("simulated (mean ± standard error)")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
    Ok(())
}

/// Legend box in the upper left, the style of every figure.
pub(super) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(15))
        .draw()
        .map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_three_significant_digits() {
        assert_eq!(significant(2.7), "2.7");
        assert_eq!(significant(0.5), "0.5");
        assert_eq!(significant(1.234_56), "1.23");
        assert_eq!(significant(250.0), "250");
        assert_eq!(significant(12_345.0), "12345");
        assert_eq!(significant(0.001_234), "0.00123");
    }

    #[test]
    fn every_kth_entry_and_the_last_are_labelled() {
        let n = 30;
        let shown: Vec<usize> = (0..n).filter(|i| labelled(*i, n)).collect();
        assert!(shown.len() <= MAX_LEGEND + 1, "{shown:?}");
        assert_eq!(shown[0], 0);
        assert_eq!(*shown.last().unwrap(), n - 1);
        assert!((0..5).all(|i| labelled(i, 5)));
    }
}
