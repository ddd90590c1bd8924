//! Finding an adapter and opening a device on it: the adapters wgpu finds, and the open
//! device with its queue, limits and lost-device flag.
//!
//! The instance is built from the environment, so `WGPU_BACKEND=vulkan` restricts the
//! backends; which adapter a run takes is decided in one place,
//! [`crate::backend::choose_adapter`]. The device gets the adapter's own limits.

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

impl AdapterSummary {
    /// Whether the adapter is a software one that runs on the CPU (lavapipe).
    pub fn is_software(&self) -> bool {
        self.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }

    /// "llvmpipe (LLVM 15…), vulkan, Cpu".
    pub fn describe(&self) -> String {
        format!("{} ({}, {})", self.name, self.backend, self.device_type)
    }
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

/// Every adapter the instance finds, in its order, with what `asemc devices` lists.
pub fn found() -> Vec<(wgpu::Adapter, AdapterSummary)> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .map(|a| {
            let s = summary(&a.get_info());
            (a, s)
        })
        .collect()
}

/// Every adapter the instance finds.
pub fn adapters() -> Vec<AdapterSummary> {
    found().into_iter().map(|(_, s)| s).collect()
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
    /// The adapter `--backend gpu` takes (see [`crate::backend::choose_adapter`]),
    /// opened; `Ok(None)` when there is no adapter at all.
    pub fn open() -> Result<Option<Self>> {
        if found().is_empty() {
            return Ok(None);
        }
        match crate::backend::open_adapter(crate::backend::BackendChoice::Gpu)? {
            crate::backend::Opened::Gpu(gpu, _) => Ok(Some(*gpu)),
            crate::backend::Opened::Cpu(_) => Ok(None),
        }
    }

    /// Open a device on `adapter`, with the adapter's own limits.
    pub fn on(adapter: wgpu::Adapter) -> Result<Self> {
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
        Ok(Self {
            device,
            queue,
            info,
            limits,
            lost,
            pipelines: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the adapter is a software one that runs on the CPU (lavapipe).
    pub fn is_software(&self) -> bool {
        self.info.is_software()
    }

    /// "llvmpipe (LLVM 15…), vulkan, Cpu".
    pub fn describe(&self) -> String {
        self.info.describe()
    }
}
