//! `asemc plot`: figures of a finished run, each as PNG and SVG.
//!
//! - `light_in_out`: integrated edge output vs pump fluence on log axes, with the
//!   two-line fit and the threshold with its 95 % band (fluence sweeps);
//! - `vsl`: edge output vs stripe length with the fit of `I = A/g·(e^{gL} − 1)`
//!   (stripe-length sweeps);
//! - `spectra`: the edge spectrum of every point, absolute (log) and normalised;
//! - `evolution_point_K`: the platelet populations and the net gain spectrum at the
//!   stripe centre over time, for one point;
//! - for passive-transport runs (pencil or isotropic source) instead: `escape`, the
//!   fraction of the light leaving or absorbed by each way against the swept value,
//!   and `time_of_flight_point_K`.
//!
//! Figures are drawn as SVG and rasterised to PNG; text is set in DejaVu Sans, embedded
//! in the binary, so no system font is needed.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use crate::analysis::{self, Analysis, FLUENCE_KEY, FitOptions, LENGTH_KEY};
use crate::error::{Error, Result};
use crate::output::{OutputReader, PointRecord};

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans.LICENSE`).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";
/// Size of a one-panel and of a two-panel figure, SVG pixels.
pub const SINGLE: (u32, u32) = (900, 600);
pub const DOUBLE: (u32, u32) = (1500, 600);
/// Most legend entries a figure lists (more points are drawn, but every k-th labelled).
const MAX_LEGEND: usize = 12;
/// Exciton numbers whose populations are drawn one by one; higher ones are summed.
const SHOWN_EXCITONS: usize = 3;
/// How far a log axis of spectra reaches: to this many decades below the weakest
/// spectrum's peak, but no more than `SPECTRUM_DECADES` below the strongest one's.
const SPECTRUM_DECADES_BELOW_WEAKEST: f64 = 1.5;
const SPECTRUM_DECADES: f64 = 10.0;

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
        let fig = LightInOut {
            all: raw(&points, FLUENCE_KEY),
            mean: analysis::curve(&points, FLUENCE_KEY, "edge_photons"),
            threshold: analysis.threshold.as_ref(),
        };
        save(&fig, SINGLE, dir, "light_in_out", &mut written)?;
    }
    if swept(LENGTH_KEY) {
        let fig = Vsl {
            all: raw(&points, LENGTH_KEY),
            mean: analysis::curve(&points, LENGTH_KEY, "edge_photons"),
            gain: analysis.gain.as_ref(),
        };
        save(&fig, SINGLE, dir, "vsl", &mut written)?;
    }

    let mut spectra = Vec::new();
    for p in &points {
        let (_, nm) = reader.dataset(p.index, "wavelength_nm")?;
        let (_, counts) = reader.dataset(p.index, "edge_spectrum")?;
        let bin = (nm.last().unwrap_or(&0.0) - nm[0]) / (nm.len().max(2) - 1) as f64;
        let per_nm = counts.iter().map(|c| c / bin).collect();
        spectra.push((point_label(p), nm, per_nm));
    }
    let trend = reader
        .swept_keys
        .iter()
        .find(|k| k.as_str() != analysis::REPEAT_KEY)
        .map(|key| {
            let peak = analysis::curve(&points, key, "edge_peak_nm");
            let fwhm = analysis::curve(&points, key, "edge_fwhm_nm");
            Trend {
                label: axis_label(key),
                log_x: key == FLUENCE_KEY,
                peak,
                fwhm,
            }
        });
    save(
        &Spectra { spectra, trend },
        DOUBLE,
        dir,
        "spectra",
        &mut written,
    )?;

    let k = evolution_point;
    let (_, times) = reader.dataset(k, "snapshot_time_ps")?;
    let (shape, populations) = reader.dataset(k, "populations")?;
    let (_, nm) = reader.dataset(k, "wavelength_nm")?;
    let (_, gain) = reader.dataset(k, "gain_spectrum")?;
    let p = points.iter().find(|p| p.index == k).expect("checked above");
    let fig = Evolution {
        title: point_label(p),
        times,
        width: shape.get(1).copied().unwrap_or(1),
        populations,
        nm,
        gain,
    };
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

/// The exits of a passive run drawn in `escape`, and the results summed for each.
const ESCAPE_CHANNELS: [(&str, &[&str]); 6] = [
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

/// Rows of the `time_of_flight` dataset, in order.
const FLIGHT_ROWS: [&str; 6] = ["top", "bottom", "edge x−", "edge x+", "edge y−", "edge y+"];

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

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary; failing to parse it is a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans does not parse"));
    });
}

/// (swept value, edge photons) of every point, repeats included.
fn raw(points: &[PointRecord], key: &str) -> Vec<(f64, f64)> {
    analysis::repeats(points, key, "edge_photons")
        .into_iter()
        .flat_map(|(x, ys)| ys.into_iter().map(move |y| (x, y)))
        .collect()
}

/// The axis title of a swept key.
fn axis_label(key: &str) -> String {
    match key {
        FLUENCE_KEY => "pump fluence (µJ/cm²)".into(),
        LENGTH_KEY => "stripe length (µm)".into(),
        _ => key.to_string(),
    }
}

/// A short legend label for a point: its swept values with units.
fn point_label(p: &PointRecord) -> String {
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
fn significant(v: f64) -> String {
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
fn log_grid(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> + Clone {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n).map(move |i| (a + (b - a) * i as f64 / (n - 1) as f64).exp())
}

/// A log-axis range around positive values, with a margin of `pad` in factor.
fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
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
fn lin_range(values: impl Iterator<Item = f64>, floor: Option<f64>) -> (f64, f64) {
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
fn log_tick(v: &f64) -> String {
    if (0.01..1e4).contains(&v.abs()) {
        significant(*v)
    } else {
        format!("{v:.0e}")
    }
}

/// Label of a linear-axis tick.
fn lin_tick(v: &f64) -> String {
    if *v == 0.0 || (0.01..1e5).contains(&v.abs()) {
        significant(*v)
    } else {
        format!("{v:.1e}")
    }
}

/// The colour of entry `i` of `n` (viridis, without its palest yellow).
fn shade(i: usize, n: usize) -> RGBColor {
    let h = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        0.0
    };
    ViridisRGB.get_color(0.9 * h)
}

/// Whether entry `i` of `n` gets a legend label.
fn labelled(i: usize, n: usize) -> bool {
    let every = n.div_ceil(MAX_LEGEND);
    i % every == 0 || i + 1 == n
}

type Drawn = std::result::Result<(), String>;

fn e(err: impl Display) -> String {
    err.to_string()
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// A figure drawn the same way on any backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn;
}

/// Draw `fig` as `dir/stem.svg`, and rasterise that SVG into `dir/stem.png` at
/// `PNG_SCALE` pixels per SVG pixel, so the two files show the same figure.
fn save(
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
fn axes<'a, DB: DrawingBackend + 'a, X, Y>(
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

/// The simulated points: the mean over repeats, and each repeat faintly when there
/// are repeats (zeros are left off the log axes).
fn measured<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    all: &[(f64, f64)],
    mean: &[(f64, f64)],
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
            .label("single seeds")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.mix(0.35).filled()));
    }
    chart
        .draw_series(
            mean.iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| Circle::new(*p, 5, BLACK.filled())),
        )
        .map_err(e)?
        .label("simulated")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
    Ok(())
}

/// Legend box in the upper left, the style of every figure.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

struct LightInOut<'a> {
    all: Vec<(f64, f64)>,
    mean: Vec<(f64, f64)>,
    threshold: Option<&'a analysis::Threshold>,
}

impl Figure for LightInOut<'_> {
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
        if let Some(t) = self.threshold {
            let (lo, hi) = (
                (t.fit.knee - t.fit.knee_uncertainty).max(x.0),
                (t.fit.knee + t.fit.knee_uncertainty).min(x.1),
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
                    significant(t.fit.knee_uncertainty),
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

struct Vsl<'a> {
    all: Vec<(f64, f64)>,
    mean: Vec<(f64, f64)>,
    gain: Option<&'a analysis::Gain>,
}

impl Figure for Vsl<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let x_hi = self.all.iter().map(|p| p.0).fold(0.0f64, f64::max) * 1.05;
        // Log output axis: the exponential is a line, and short and long stripes,
        // decades apart, are both visible (the fits use log residuals too).
        let fitted = self
            .gain
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
        if let Some(g) = self.gain {
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

struct Spectra {
    /// (label, wavelength nm, photons per nm) of every point.
    spectra: Vec<(String, Vec<f64>, Vec<f64>)>,
    /// Peak and FWHM against the swept value, when there is a sweep.
    trend: Option<Trend>,
}

/// The edge peak wavelength and FWHM against a swept value (repeats averaged).
struct Trend {
    label: String,
    log_x: bool,
    peak: Vec<(f64, f64)>,
    fwhm: Vec<(f64, f64)>,
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

        let mut chart = ChartBuilder::on(&left)
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
                let mut chart = ChartBuilder::on(&right)
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
    values: &[(f64, f64)],
    name: &str,
    y_desc: &str,
    x_desc: Option<&str>,
) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let y = lin_range(values.iter().map(|p| p.1), None);
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
            values.iter().copied(),
            colour.mix(0.5).stroke_width(1),
        ))
        .map_err(e)?;
    chart
        .draw_series(values.iter().map(|p| Circle::new(*p, 4, colour.filled())))
        .map_err(e)?;
    Ok(())
}

/// (x, fraction, standard error) of one exit at each point.
type Fractions = Vec<(f64, f64, f64)>;

struct Escape {
    x_label: String,
    /// (label, fractions) of every exit with any weight.
    channels: Vec<(String, Fractions)>,
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

struct TimeOfFlight {
    title: String,
    time: Vec<f64>,
    rows: usize,
    /// Row-major [exit][bin]: fraction of launched photons per bin.
    flight: Vec<f64>,
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

struct Evolution {
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
