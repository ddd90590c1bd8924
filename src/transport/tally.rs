//! Tallies of the passive transport: where each launched photon's weight ends up, with
//! per-photon second moments for standard errors, and time-of-flight histograms of the
//! exits. Chunk tallies are added in chunk order, so totals do not depend on threads.

/// Where weight can end up. Every launched unit of weight lands in exactly one
/// channel except [`Channel::AbsorbedTotal`], the sum of the two absorption channels
/// (kept per photon so its standard error is right), and the weight that Russian
/// roulette removes or adds (zero on average).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Reflected at the first surface by the pencil beam.
    Specular = 0,
    /// Left through the top after entering (diffuse reflectance).
    Top,
    /// Left through the bottom (total transmittance).
    Bottom,
    /// Left through the film edge at x = −L/2.
    EdgeXMinus,
    /// Left through the film edge at x = +L/2.
    EdgeXPlus,
    /// Left through the film edge at y = −W/2.
    EdgeYMinus,
    /// Left through the film edge at y = +W/2.
    EdgeYPlus,
    /// Absorbed in the film.
    AbsorbedFilm,
    /// Absorbed in a finite substrate.
    AbsorbedSubstrate,
    /// Absorbed anywhere (film + substrate).
    AbsorbedTotal,
    /// Trapped by total internal reflection for ever in a lossless, laterally
    /// infinite stack with no scatterer to release it.
    Guided,
    /// Given up after the interaction limit (a lossless trap the stack cannot resolve).
    Unresolved,
}

/// Number of channels.
pub const CHANNELS: usize = 12;

impl Channel {
    pub const ALL: [Channel; CHANNELS] = [
        Channel::Specular,
        Channel::Top,
        Channel::Bottom,
        Channel::EdgeXMinus,
        Channel::EdgeXPlus,
        Channel::EdgeYMinus,
        Channel::EdgeYPlus,
        Channel::AbsorbedFilm,
        Channel::AbsorbedSubstrate,
        Channel::AbsorbedTotal,
        Channel::Guided,
        Channel::Unresolved,
    ];

    /// The name of the tally in output files and `summary --json`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Specular => "reflectance_specular",
            Channel::Top => "reflectance_diffuse",
            Channel::Bottom => "transmittance_total",
            Channel::EdgeXMinus => "edge_x_minus",
            Channel::EdgeXPlus => "edge_x_plus",
            Channel::EdgeYMinus => "edge_y_minus",
            Channel::EdgeYPlus => "edge_y_plus",
            Channel::AbsorbedFilm => "absorbed_film",
            Channel::AbsorbedSubstrate => "absorbed_substrate",
            Channel::AbsorbedTotal => "absorbed_fraction",
            Channel::Guided => "guided_fraction",
            Channel::Unresolved => "unresolved_fraction",
        }
    }

    /// Row of the time-of-flight histogram for exits that have one.
    pub fn time_row(self) -> Option<usize> {
        match self {
            Channel::Top => Some(0),
            Channel::Bottom => Some(1),
            Channel::EdgeXMinus => Some(2),
            Channel::EdgeXPlus => Some(3),
            Channel::EdgeYMinus => Some(4),
            Channel::EdgeYPlus => Some(5),
            _ => None,
        }
    }
}

/// Exits with a time-of-flight histogram, in row order.
pub const TIMED_EXITS: [Channel; 6] = [
    Channel::Top,
    Channel::Bottom,
    Channel::EdgeXMinus,
    Channel::EdgeXPlus,
    Channel::EdgeYMinus,
    Channel::EdgeYPlus,
];

/// The time-of-flight binning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBins {
    pub max_ps: f64,
    pub bins: usize,
}

impl TimeBins {
    pub fn width_ps(&self) -> f64 {
        self.max_ps / self.bins as f64
    }

    pub fn index(&self, t_ps: f64) -> Option<usize> {
        let i = (t_ps / self.width_ps()).floor();
        (i >= 0.0 && i < self.bins as f64).then_some(i as usize)
    }
}

/// One photon's contributions, collected while it is traced.
#[derive(Debug, Clone)]
pub struct PhotonScore {
    pub weight: [f64; CHANNELS],
}

impl PhotonScore {
    pub fn new() -> Self {
        Self {
            weight: [0.0; CHANNELS],
        }
    }

    #[inline]
    pub fn add(&mut self, channel: Channel, w: f64) {
        self.weight[channel as usize] += w;
        if matches!(channel, Channel::AbsorbedFilm | Channel::AbsorbedSubstrate) {
            self.weight[Channel::AbsorbedTotal as usize] += w;
        }
    }
}

impl Default for PhotonScore {
    fn default() -> Self {
        Self::new()
    }
}

/// Sums over many photons.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub photons: u64,
    /// Interaction steps taken (for rates).
    pub steps: u64,
    pub sum: [f64; CHANNELS],
    pub sum_sq: [f64; CHANNELS],
    /// Time of flight: `TIMED_EXITS.len()` rows of `bins.bins` weights.
    pub time: Vec<f64>,
    pub bins: TimeBins,
}

impl Tally {
    pub fn new(bins: TimeBins) -> Self {
        Self {
            photons: 0,
            steps: 0,
            sum: [0.0; CHANNELS],
            sum_sq: [0.0; CHANNELS],
            time: vec![0.0; TIMED_EXITS.len() * bins.bins],
            bins,
        }
    }

    /// Book one finished photon.
    pub fn add_photon(&mut self, score: &PhotonScore) {
        self.photons += 1;
        for (k, w) in score.weight.iter().enumerate() {
            self.sum[k] += w;
            self.sum_sq[k] += w * w;
        }
    }

    /// Book weight `w` leaving through `exit` at time `t_ps` in the histogram.
    pub fn add_time(&mut self, exit: Channel, t_ps: f64, w: f64) {
        if let (Some(row), Some(bin)) = (exit.time_row(), self.bins.index(t_ps)) {
            self.time[row * self.bins.bins + bin] += w;
        }
    }

    /// Add another tally (used in chunk order, so the result is deterministic).
    pub fn merge(&mut self, other: &Tally) {
        self.photons += other.photons;
        self.steps += other.steps;
        for k in 0..CHANNELS {
            self.sum[k] += other.sum[k];
            self.sum_sq[k] += other.sum_sq[k];
        }
        for (a, b) in self.time.iter_mut().zip(&other.time) {
            *a += b;
        }
    }

    /// Mean weight per launched photon in `channel`.
    pub fn mean(&self, channel: Channel) -> f64 {
        self.sum[channel as usize] / self.photons as f64
    }

    /// Standard error of [`Tally::mean`] from the per-photon second moment.
    pub fn stderr(&self, channel: Channel) -> f64 {
        let n = self.photons as f64;
        let m = self.mean(channel);
        let var = (self.sum_sq[channel as usize] / n - m * m).max(0.0);
        (var / (n - 1.0).max(1.0)).sqrt()
    }
}
