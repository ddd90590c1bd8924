//! asemc: Monte Carlo simulation of amplified spontaneous emission in thin films of
//! colloidal nanoplatelets.
//!
//! Layers: `config` (what the user wrote, checked), `transport`, `modes` and `ase`
//! (physics; `ase::engine` the time step, `cpu` and `gpu` its stages on each backend,
//! no I/O), `analysis` (fits of finished runs), `plot` (their figures), `backend` (where the physics runs), `runner` (sweeps), `output` (HDF5),
//! `cli` (the command line).

pub mod analysis;
pub mod ase;
pub mod backend;
pub mod build_hash;
pub mod cli;
pub mod config;
pub mod cpu;
pub mod dispersion;
pub mod error;
pub mod gpu;
pub mod modes;
pub mod output;
pub mod plot;
pub mod result;
pub mod rng;
pub mod runner;
pub mod slurm;
pub mod spectral;
pub mod transport;
pub mod units;

pub use error::{Error, Result};
