//! `asemc run`: every point of a config, run on the chosen backend and written to an
//! HDF5 file (resumed, or one shard of the sweep, on request).

use crate::error::Result;
use crate::runner::{self, RunOptions};

use super::ConfigArgs;

/// Run every point of `config` as `options` say.
pub(super) fn run(config: ConfigArgs, options: &RunOptions) -> Result<()> {
    let resolved = config.load()?;
    runner::run(&resolved, options)?;
    Ok(())
}
