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

mod draw;
mod escape;
mod evolution;
mod figures;
mod light_in_out;
mod spectra;
mod time_of_flight;
mod vsl;

pub use draw::{DOUBLE, PNG_SCALE, SINGLE};
pub use figures::{PlotOptions, PlotReport, plot};
