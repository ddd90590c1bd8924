//! Tallies of the ASE engine: photons, spectrum and time trace of every exit, and the
//! photon/exciton ledger that checks energy conservation.

/// The exits of the film.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The edge at the stripe's end, within the detector's acceptance cone.
    Detector = 0,
    /// Every other way out through the film's edges.
    OtherEdges,
    /// The top surface (the spontaneous-emission / PL spectrum).
    Surface,
    /// Into the substrate (or out through a finite substrate's back).
    Substrate,
}

pub const EXITS: [Exit; 4] = [
    Exit::Detector,
    Exit::OtherEdges,
    Exit::Surface,
    Exit::Substrate,
];

impl Exit {
    /// Prefix of the exit's datasets.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Detector => "edge",
            Exit::OtherEdges => "other_edges",
            Exit::Surface => "surface",
            Exit::Substrate => "substrate",
        }
    }
}

/// Where photons and excitons went, in real photons (or excitons).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// Excitons the pump created.
    pub pump_excitons: f64,
    /// Photons emitted spontaneously (inside and outside the spectral window).
    pub spontaneous: f64,
    /// Spontaneous photons outside the spectral window (not followed).
    pub outside_window: f64,
    /// Photons added to packets by stimulated emission.
    pub stimulated: f64,
    /// Photons taken from packets by platelet absorption.
    pub absorbed: f64,
    /// Photons lost to background absorption.
    pub background: f64,
    pub nonradiative: f64,
    pub auger: f64,
    /// Photons that left through each exit (by `Exit` index).
    pub exits: [f64; 4],
    /// Photons still in the film when the run ends.
    pub in_flight: f64,
    /// Weight added (+) or removed (−) by Russian roulette; zero on average.
    pub roulette_net: f64,
    /// Weight set to zero where a capped packet would have gone negative.
    pub clamped: f64,
    /// Stimulated photons (absorbed photons) not yet booked as whole sampled excitons.
    pub pending_stimulated: f64,
    pub pending_absorbed: f64,
    /// Photons emitted spontaneously whose excitons are not yet booked.
    pub pending_radiative: f64,
    /// Stimulated emission (absorption) for which no platelet was left to book it.
    pub unbooked_stimulated: f64,
    pub unbooked_absorbed: f64,
    /// Excitons left at the end.
    pub excitons_left: f64,
}

/// `$to.field += $from.field` for each field named.
macro_rules! add_fields {
    ($to:ident, $from:ident: $($field:ident),+ $(,)?) => {
        $($to.$field += $from.$field;)+
    };
}

impl Ledger {
    pub fn merge(&mut self, o: &Ledger) {
        add_fields!(self, o:
            pump_excitons, spontaneous, outside_window, stimulated, absorbed, background,
            nonradiative, auger,
        );
        for k in 0..4 {
            self.exits[k] += o.exits[k];
        }
        add_fields!(self, o:
            in_flight, roulette_net, clamped, pending_stimulated, pending_absorbed,
            pending_radiative, unbooked_stimulated, unbooked_absorbed, excitons_left,
        );
    }

    /// Everything the pump's excitons became, by the books.
    pub fn accounted(&self) -> f64 {
        self.excitons_left
            + self.nonradiative
            + self.auger
            + self.exits.iter().sum::<f64>()
            + self.background
            + self.outside_window
            + self.in_flight
            - self.roulette_net
            + self.pending_absorbed
            - self.pending_stimulated
            - self.pending_radiative
    }

    /// (pump excitons − accounted)/pump excitons: what the bookkeeping failed to
    /// conserve (photons gained with no exciton to pay for them, or the reverse).
    pub fn balance_error(&self) -> f64 {
        (self.pump_excitons - self.accounted()) / self.pump_excitons
    }
}

/// Photons, spectrum and time trace of each exit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExitTally {
    pub bins: usize,
    pub time_bins: usize,
    pub time_bin_ps: f64,
    /// EXITS × spectral bins.
    pub spectrum: Vec<f64>,
    /// EXITS × time bins.
    pub trace: Vec<f64>,
}

impl ExitTally {
    pub fn new(bins: usize, time_bins: usize, duration_ps: f64) -> Self {
        Self {
            bins,
            time_bins,
            time_bin_ps: duration_ps / time_bins as f64,
            spectrum: vec![0.0; EXITS.len() * bins],
            trace: vec![0.0; EXITS.len() * time_bins],
        }
    }

    pub fn add(&mut self, exit: Exit, bin: usize, t_ps: f64, w: f64) {
        let e = exit as usize;
        self.spectrum[e * self.bins + bin] += w;
        let tb = ((t_ps / self.time_bin_ps) as usize).min(self.time_bins - 1);
        self.trace[e * self.time_bins + tb] += w;
    }

    pub fn merge(&mut self, o: &ExitTally) {
        for (a, b) in self.spectrum.iter_mut().zip(&o.spectrum) {
            *a += b;
        }
        for (a, b) in self.trace.iter_mut().zip(&o.trace) {
            *a += b;
        }
    }

    pub fn spectrum_of(&self, exit: Exit) -> &[f64] {
        let e = exit as usize;
        &self.spectrum[e * self.bins..(e + 1) * self.bins]
    }

    pub fn trace_of(&self, exit: Exit) -> &[f64] {
        let e = exit as usize;
        &self.trace[e * self.time_bins..(e + 1) * self.time_bins]
    }
}
