//! The ASE engine: sampled platelets with integer exciton populations, excited by a
//! femtosecond stripe pump, decaying, emitting photon packets that propagate in the
//! layered slab and are amplified or absorbed by the platelets they pass, every photon
//! gained or absorbed booked against those platelets.

pub mod books;
pub mod engine;
pub mod exchange;
pub mod kinetics;
pub mod lineshape;
pub mod photons;
pub mod platelets;
pub mod replicas;
pub mod report;
pub mod settle;
pub mod setup;
pub mod spontaneous;
pub mod tally;
pub mod weight_tree;

pub use books::{AseOutput, CellSummary, Span};
pub use engine::{Stages, run, run_stages};
pub use setup::AseSetup;
