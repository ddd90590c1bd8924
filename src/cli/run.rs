//! `asemc run`: every point of a config, run on the chosen backend and written to an
//! HDF5 file (resumed, or one shard of the sweep, on request). A finished fluence or
//! stripe-length sweep ends with its fit, as `asemc fit` gives it.

use crate::analysis::FitOptions;
use crate::error::Result;
use crate::output::OutputReader;
use crate::runner::{self, RunOptions};

use super::ConfigArgs;

/// Run every point of `config` as `options` say.
pub(super) fn run(config: ConfigArgs, options: &RunOptions) -> Result<()> {
    let resolved = config.load()?;
    let report = runner::run(&resolved, options)?;
    if options.quiet || options.shard.is_some() {
        return Ok(());
    }
    // The sweep's fit, where it has one (a sweep over anything else has none to give).
    let reader = OutputReader::open(&report.output)?;
    let points = reader.points()?;
    let fit = super::analysis::analyse(&reader, &report.output, &points, &FitOptions::default());
    if let Ok(a) = fit {
        print!("{}", a.to_text());
    }
    Ok(())
}
