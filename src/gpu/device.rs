//! Finding an adapter and opening a device on it: the adapters wgpu finds, and the open
//! device with its queue, limits and lost-device flag.
//!
//! The instance is built from the environment, so `WGPU_BACKEND=vulkan` restricts the
//! backends and `WGPU_ADAPTER_NAME=llvmpipe` picks an adapter by (part of) its name.
//! The device gets the adapter's own limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// What `asemc devices` lists about an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

fn summary(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter the instance finds.
pub fn adapters() -> Vec<AdapterSummary> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(|a| summary(&a.get_info()))
        .collect()
}

/// An open device with its queue.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: AdapterSummary,
    pub limits: wgpu::Limits,
    /// Set when the device is lost; checked after every submission.
    pub(super) lost: Arc<Mutex<Option<String>>>,
    /// Pipelines built so far, by "kernel::entry": a sweep compiles each kernel once.
    pub(super) pipelines: Mutex<HashMap<String, wgpu::ComputePipeline>>,
}

impl Gpu {
    /// Open the adapter named by `WGPU_ADAPTER_NAME` (a case-insensitive part of its
    /// name), or else the default adapter. `Ok(None)` when there is no adapter at all.
    pub fn open() -> Result<Option<Self>> {
        let instance = instance();
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) => {
                let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
                let names: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
                let wanted = wanted.to_lowercase();
                match all
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                {
                    Some(a) => a,
                    None => {
                        return Err(Error::Usage(format!(
                            "WGPU_ADAPTER_NAME={wanted}: no adapter's name contains it (adapters: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        )));
                    }
                }
            }
            Err(_) => match pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions::default()),
            ) {
                Ok(a) => a,
                Err(_) => return Ok(None),
            },
        };
        let info = summary(&adapter.get_info());
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("asemc"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::Runtime(format!("cannot open the GPU {}: {e}", info.name)))?;
        let lost = Arc::new(Mutex::new(None));
        let flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut l) = flag.lock() {
                *l = Some(format!("{reason:?}: {message}"));
            }
        });
        Ok(Some(Self {
            device,
            queue,
            info,
            limits,
            lost,
            pipelines: Mutex::new(HashMap::new()),
        }))
    }

    /// Whether the adapter is a software one that runs on the CPU (lavapipe).
    pub fn is_software(&self) -> bool {
        self.info.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }

    /// "llvmpipe (LLVM 15…), vulkan, Cpu".
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }
}
