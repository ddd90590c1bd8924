//! The library's error type. Every variant carries enough context (file, key, line and
//! column, sweep point) for one message to tell the user what is wrong and what would
//! be valid. Bad input maps to exit status 2, failures at run time to 1.

use std::fmt;
use std::path::PathBuf;

/// A problem with a configuration value, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file the value came from (or would have come from).
    pub file: PathBuf,
    /// Dotted key path, e.g. `film.thickness_nm`, when one is known.
    pub key: Option<String>,
    /// 1-based line and column in `file`, when the value is in the file.
    pub line_col: Option<(usize, usize)>,
    /// Where the value came from when it was not the file (e.g. `--set`).
    pub origin: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.line_col {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}")?;
            if let Some(origin) = &self.origin {
                write!(f, " ({origin})")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Everything that can go wrong in asemc.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file or override is invalid.
    #[error("{0}")]
    Config(Box<ConfigError>),
    /// A file or argument given by the user is unusable (missing, wrong kind, foreign).
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// A command-line argument is invalid.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed while running.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The HDF5 library reported a failure while writing or reading a file.
    #[error("{}: HDF5: {message}", path.display())]
    Hdf5 { path: PathBuf, message: String },
    /// A failure at run time (engine, device).
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// Exit status for the command line: 2 for bad input, 1 for run-time failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Input { .. } | Error::Usage(_) => 2,
            Error::Io { .. } | Error::Hdf5 { .. } | Error::Runtime(_) => 1,
        }
    }

    pub(crate) fn hdf5(path: impl Into<PathBuf>, err: impl fmt::Display) -> Self {
        Error::Hdf5 {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

/// The result type of the library.
pub type Result<T> = std::result::Result<T, Error>;
