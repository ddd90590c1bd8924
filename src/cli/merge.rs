//! `asemc merge`: the shard files of a run joined into one file equal to the unsharded
//! run.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::Result;
use crate::output;

use super::emit;

/// Join the shard files `parts` into `output`.
pub(super) fn merge(parts: Vec<PathBuf>, output: PathBuf, allow: output::Allow) -> Result<()> {
    let report = output::merge(&parts, &output, allow)?;
    let mut out = format!(
        "wrote {}: {} of {} points from {} file(s)\n",
        report.output.display(),
        report.points,
        report.points_total,
        parts.len()
    );
    if !report.missing.is_empty() {
        writeln!(
            out,
            "missing (--allow-partial): {} point(s)",
            report.missing.len()
        )
        .ok();
    }
    emit(&out)
}
