//! The time loop of the ASE engine. Each step of length dt runs the stages of the
//! design, in order, on whichever backend holds the point's state ([`Stages`]):
//! 1. spontaneous emission (the cells' expected emission launched as packets) and
//!    platelet decay (the loss events, exact continuous-time events within the step,
//!    and the radiative decay's excitons booked against the platelets),
//! 2. the cells' gain spectra brought up to the platelets' counts,
//! 3. photon transport with gain, and the exchange settled against what the cells hold,
//! 4. the exchange booked against the platelets,
//! 5. tallies and snapshots.
//!
//! The CPU implements the stages in `src/cpu/` (each named after its kernel in
//! `shaders/`), the GPU in `src/gpu/stages.rs`. Every stage's result is merged in cell
//! and packet order, so a run is the same on any number of threads.

pub use super::books::AseOutput;
use super::books::Span;
use super::setup::AseSetup;
use crate::error::Result;

/// One point's state on a backend, stepped stage by stage.
pub trait Stages {
    /// 1a. Launch the step's spontaneous emission as packets.
    fn spontaneous_emission(&mut self, span: Span) -> Result<()>;
    /// 1b. The loss events within the step, and the radiative decay's excitons booked.
    fn platelet_decay(&mut self, span: Span) -> Result<()>;
    /// 2. Bring the cells' gain spectra up to the platelets' counts.
    fn cell_gain(&mut self, span: Span) -> Result<()>;
    /// 3. Move the packets to the step's end with gain, settle their exchange against
    ///    what the cells hold, and return the step's load: the largest share of a
    ///    cell's excitons (or of its room for more) that the packets asked for.
    fn ase_transport(&mut self, span: Span) -> Result<f64>;
    /// 4. Book the settled exchange against the platelets as whole sampled excitons.
    fn platelet_booking(&mut self, span: Span) -> Result<()>;
    /// 5. Take the snapshots that fall due by the step's end.
    fn tallies(&mut self, span: Span) -> Result<()>;
    /// Everything the point produced, after `steps` steps.
    fn finish(&mut self, steps: u64) -> Result<AseOutput>;
}

/// Steps between exact recomputations of the cells' gain spectra (clears the rounding
/// drift of incremental updates), made before the step's first stage.
pub const GAIN_REFRESH_STEPS: u32 = 512;

/// Whether the gain spectra are recomputed from every count before `span`'s stages.
pub fn refresh_due(span: Span) -> bool {
    span.step > 0 && span.step.is_multiple_of(GAIN_REFRESH_STEPS)
}

/// Run one point to its end: the stages of each step, the step shortened where the
/// packets asked too much of a cell. `progress` is called with the configured steps
/// finished since its last call.
pub fn run_stages(
    setup: &AseSetup,
    point: u32,
    stages: &mut dyn Stages,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AseOutput> {
    let mut clock = Clock::new(setup);
    while let Some(span) = clock.next(point) {
        stages.spontaneous_emission(span)?;
        stages.platelet_decay(span)?;
        stages.cell_gain(span)?;
        let load = stages.ase_transport(span)?;
        stages.platelet_booking(span)?;
        stages.tallies(span)?;
        clock.advance(setup, load, progress);
    }
    stages.finish(clock.steps)
}

/// Run one point on the CPU.
pub fn run(setup: &AseSetup, point: u32, progress: &(dyn Fn(u64) + Sync)) -> AseOutput {
    let mut stages = crate::cpu::CpuAse::new(setup, point);
    match run_stages(setup, point, &mut stages, progress) {
        Ok(out) => out,
        Err(e) => unreachable!("the CPU stages do not fail: {e}"),
    }
}

/// The engine's clock: the step's span, its length adapting to the exchange's load.
struct Clock {
    dt: f64,
    t0: f64,
    step: u32,
    /// Steps taken (more than duration/dt where the step was shortened).
    steps: u64,
    /// Configured steps reported to the progress callback.
    reported: u64,
    duration_ps: f64,
    dt_max: f64,
    limit: f64,
}

impl Clock {
    fn new(setup: &AseSetup) -> Self {
        Self {
            dt: setup.dt_ps,
            t0: 0.0,
            step: 0,
            steps: 0,
            reported: 0,
            duration_ps: setup.duration_ps,
            dt_max: setup.dt_ps,
            limit: setup.max_exchange_fraction,
        }
    }

    /// The next step, or `None` at the run's end.
    fn next(&self, point: u32) -> Option<Span> {
        (self.t0 < self.duration_ps * (1.0 - 1e-12)).then(|| Span {
            point,
            step: self.step,
            t0: self.t0,
            t1: (self.t0 + self.dt).min(self.duration_ps),
        })
    }

    /// Close the step that the last [`Clock::next`] gave, whose exchange had `load`.
    fn advance(&mut self, setup: &AseSetup, load: f64, progress: &(dyn Fn(u64) + Sync)) {
        self.t0 = (self.t0 + self.dt).min(self.duration_ps);
        // An uncoupled or frozen run has no load: its step stays as configured.
        if setup.coupled && !setup.frozen {
            self.dt = next_time_step(self.dt, self.dt_max, load, self.limit);
        }
        self.steps += 1;
        self.step += 1;
        let done = (self.t0 / self.dt_max).round() as u64;
        if done > self.reported {
            progress(done - self.reported);
            self.reported = done;
        }
    }
}

/// The shortest step, as a fraction of the configured one.
const MIN_STEP_FRACTION: f64 = 1.0 / 16.0;

/// The next step length. `load` is the largest share of a cell's excitons (or of its
/// room for more) that the last step's photons asked for; `limit` is
/// `run.max_exchange_fraction`. Above the limit the step is halved (cut 8× far above
/// it), below a quarter of it the step doubles back towards the configured one.
fn next_time_step(dt: f64, dt_max: f64, load: f64, limit: f64) -> f64 {
    let dt = if load > 4.0 * limit {
        dt / 8.0
    } else if load > limit {
        dt / 2.0
    } else if load < 0.25 * limit {
        dt * 2.0
    } else {
        dt
    };
    dt.clamp(dt_max * MIN_STEP_FRACTION, dt_max)
}
