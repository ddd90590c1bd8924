//! The `asemc` binary: parse the command line, run it, report errors with exit status
//! 2 for bad input and 1 for failures at run time.

use clap::Parser;

/// Mesa's Vulkan drivers (lavapipe included) print "error: XDG_RUNTIME_DIR is invalid
/// or not set in the environment" when the variable is missing, though nothing is
/// wrong. Give the process a private 0700 runtime directory then, before any thread
/// starts, so that users are not told of an error that is none.
fn ensure_runtime_dir() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        let usable = std::env::var_os("XDG_RUNTIME_DIR")
            .map(std::path::PathBuf::from)
            .is_some_and(|d| d.is_dir());
        if usable {
            return;
        }
        let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
        let dir = std::env::temp_dir().join(format!("asemc-runtime-{uid}"));
        let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
        if made.is_ok() || dir.is_dir() {
            // SAFETY: called first thing in main, while the process has one thread.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
}

fn main() {
    ensure_runtime_dir();
    let cli = asemc::cli::Cli::parse();
    if let Err(e) = asemc::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
