//! Configuration: schema, loading with located errors, range checks, sweep expansion.

mod load;
mod schema;
mod sweep;
mod validate;

pub use load::{load, from_text, Resolved};
pub use schema::*;
pub use sweep::{expand, Plan, MAX_POINTS};
pub use validate::{validate, Invalid, MAX_PHOTONS, MAX_TIME_BINS};
