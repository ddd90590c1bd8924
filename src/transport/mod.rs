//! Photon transport in the layered slab (the CPU reference).

pub mod fresnel;
pub mod geometry;
pub mod interfaces;
pub mod mover;
pub mod packet;
pub mod scatter;
pub mod simulate;
pub mod source;
pub mod tally;

pub use simulate::{TransportSetup, simulate};
pub use tally::{Channel, Tally};
