//! The CPU backend's twins of the GPU kernels: each stage of the ASE engine's time step
//! in a file named after its kernel in `shaders/` (`cpu::NAME` ↔ `shaders/NAME.wgsl` ↔
//! pipeline `"asemc.NAME"`), and [`CpuAse`], the point's state on the CPU that runs them.

pub mod ase_transport;
pub mod cell_gain;
pub mod platelet_booking;
pub mod platelet_decay;
pub mod spontaneous_emission;
pub mod tallies;

mod state;

pub use state::CpuAse;
