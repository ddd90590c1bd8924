//! `asemc devices`: the GPU adapters wgpu finds, as text or JSON.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::error::{Error, Result};

use super::emit;

pub(super) fn devices(as_json: bool) -> Result<()> {
    let adapters = crate::gpu::adapters();
    let mut out = String::new();
    if as_json {
        let list: Vec<Value> = adapters
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "backend": a.backend,
                    "device_type": a.device_type,
                    "driver": a.driver,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&json!({ "adapters": list }))
            .map_err(|e| Error::Runtime(e.to_string()))?;
        writeln!(out, "{text}").ok();
        return emit(&out);
    }
    if adapters.is_empty() {
        writeln!(
            out,
            "no GPU adapter found; runs use the CPU (on Debian, mesa-vulkan-drivers provides lavapipe)"
        )
        .ok();
    }
    for (i, a) in adapters.iter().enumerate() {
        writeln!(
            out,
            "{i}: {} (backend {}, type {}, driver {})",
            a.name, a.backend, a.device_type, a.driver
        )
        .ok();
    }
    emit(&out)
}
