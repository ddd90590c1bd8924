//! The GPU side: finding an adapter, opening a device, and running the WGSL kernels
//! of `shaders/` on it with wgpu. The device's plumbing (`device`, `pipelines`,
//! `buffers`, `dispatch`) is apart from the kernels' host sides, each in a file named
//! after its shader where it has one (`shaders/ase_transport.wgsl` ↔ `ase_transport`).

mod ase_packets;
pub mod ase_transport;
mod buffers;
mod checks;
mod device;
mod dispatch;
pub mod gain;
mod pipelines;
pub mod platelet_booking;
pub mod platelet_decay;
pub mod platelets;
pub mod shaders;
pub mod shared;
pub mod spontaneous_emission;
pub mod stages;
pub mod tallies;
pub mod transport;

pub use checks::{philox_numbers, random_walk_rate};
pub use device::{AdapterSummary, Gpu, adapters, found};
pub use dispatch::Dispatch;
