//! The constants and structs the WGSL kernels share with Rust, defined once in Rust
//! and emitted as WGSL declarations that prefix every kernel (`gpu::shaders::source`,
//! and `build.rs`, which includes this module, for its naga check). This module uses
//! nothing of the crate, so that `build.rs` can include it.

mod constants;
mod structs;

pub use constants::*;
pub use structs::*;

/// The shared constants and structs as WGSL declarations.
pub fn wgsl() -> String {
    constants::wgsl() + &structs::wgsl()
}
