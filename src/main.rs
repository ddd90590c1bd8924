//! The `asemc` binary: parse the command line, run it, report errors with exit status
//! 2 for bad input and 1 for failures at run time.

use clap::Parser;

fn main() {
    let cli = asemc::cli::Cli::parse();
    if let Err(e) = asemc::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
