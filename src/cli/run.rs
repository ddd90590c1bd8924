//! `asemc run`: every point of a config, run on the chosen backend and written to an
//! HDF5 file (resumed, or one shard of the sweep, on request).

use std::path::PathBuf;

use crate::backend::BackendChoice;
use crate::config::Shard;
use crate::error::Result;
use crate::runner::{self, RunOptions};

use super::ConfigArgs;

/// Run every point of `config` into `output`.
pub(super) fn run(
    config: ConfigArgs,
    output: PathBuf,
    backend: BackendChoice,
    threads: Option<usize>,
    quiet: bool,
    resume: bool,
    shard: Option<Shard>,
) -> Result<()> {
    let resolved = config.load()?;
    runner::run(
        &resolved,
        &RunOptions {
            output,
            backend,
            threads,
            quiet,
            resume,
            shard,
        },
    )?;
    Ok(())
}
