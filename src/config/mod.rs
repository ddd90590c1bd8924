//! Configuration: schema, loading with located errors, range checks, sweep expansion.

mod load;
mod run;
mod schema;
mod sweep;
mod validate;
mod validate_pump;

pub use load::{Resolved, from_text, load};
pub use schema::*;
pub use sweep::{MAX_POINTS, Plan, Shard, describe_shard, expand};
pub use validate::{Invalid, MAX_PHOTONS, MAX_TIME_BINS, validate};
