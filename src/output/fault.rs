//! A test hook that stops the process at a chosen place inside a write, to prove that
//! a kill or an interrupt there loses nothing a `--resume` cannot restore.
//!
//! `ASEMC_FAULT_IN_WRITE=PLACE@WHAT:SIGNAL` sends SIGNAL (`kill` or `int`) to the
//! process itself when the writer reaches PLACE in the file WHAT: a point's index,
//! `run` (the run's root attributes) or `assembled` (the finished file). The places,
//! in the order a write passes them: `created` (the temporary file made, nothing in
//! it), `half` (a point's scalars written and flushed, its arrays not; the assembled
//! file's first half of the points), `written` (flushed, closed and synced, not yet
//! renamed), `committed` (renamed, directory synced) and, for the assembled file only,
//! `renamed` (at the requested name, the partial directory not yet removed). Unset,
//! the hook does nothing; it reads the variable once.

use std::sync::OnceLock;

/// The stop asked for: place, file and signal.
fn wanted() -> &'static Option<(String, String, libc::c_int)> {
    static WANTED: OnceLock<Option<(String, String, libc::c_int)>> = OnceLock::new();
    WANTED.get_or_init(|| {
        let spec = std::env::var("ASEMC_FAULT_IN_WRITE").ok()?;
        let (at, signal) = spec.split_once(':')?;
        let (place, what) = at.split_once('@')?;
        let signal = match signal {
            "kill" => libc::SIGKILL,
            "int" => libc::SIGINT,
            _ => return None,
        };
        Some((place.to_string(), what.to_string(), signal))
    })
}

/// Stop here if this is the place asked for.
pub(crate) fn stop(place: &str, what: &str) {
    if let Some((p, w, signal)) = wanted()
        && p == place
        && w == what
    {
        // SAFETY: a signal sent to this process; SIGINT is then handled by the run's
        // interrupt handler, SIGKILL ends the process at once.
        unsafe {
            libc::kill(libc::getpid(), *signal);
        }
    }
}
