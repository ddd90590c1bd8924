//! Choosing where the engine runs. Every backend turns one point's config into a
//! [`PointResult`]; the runner and the output layer see nothing else of it.

mod cpu;
mod gpu;
mod replicas;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;

use std::time::Instant;

use crate::ase::{AseOutput, AseSetup};
use crate::config::{Config, SourceKind};
use crate::error::{Error, Result};
use crate::gpu::{AdapterSummary, Gpu};
use crate::result::PointResult;
use crate::transport::{Tally, TransportSetup};

/// The `--backend` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when one exists, else the CPU.
    Auto,
    /// The CPU reference (rayon).
    Cpu,
    /// The GPU (wgpu compute shaders).
    Gpu,
}

/// A place to run sweep points.
pub trait Backend {
    /// `"cpu"` or `"gpu"`.
    fn name(&self) -> &'static str;
    /// The device it runs on, for logs and output files.
    fn adapter(&self) -> String;
    /// Run sweep point `point` with configuration `config`; `progress` is called with
    /// the work units (see [`work_units`]) finished since its last call.
    fn run_point(
        &self,
        config: &Config,
        point: u32,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PointResult>;
}

/// Run a point of `config` as its source asks, timed from here: the ASE engine's
/// replicas by `run_ase` (given a batch of replicas' setups, it returns their outputs
/// in order) for the pump, the passive transport by `run_transport` for the others.
fn run_by_source(
    config: &Config,
    run_ase: impl Fn(&[AseSetup]) -> Result<Vec<AseOutput>>,
    run_transport: impl FnOnce(&TransportSetup) -> Result<Tally>,
) -> Result<PointResult> {
    let start = Instant::now();
    if config.source.kind == SourceKind::Pump {
        let setup = AseSetup::from_config(config)?;
        return replicas::run(config, &setup, run_ase, start);
    }
    let setup = TransportSetup::from_config(config)?;
    let tally = run_transport(&setup)?;
    Ok(cpu::transport_result(&tally, start.elapsed().as_secs_f64()))
}

/// Where a backend choice runs, decided from the adapters found (and the
/// `WGPU_ADAPTER_NAME` wanted, a case-insensitive part of an adapter's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterChoice {
    /// Open the adapter at this index of the list; the text says which and why.
    Gpu(usize, String),
    /// Run on the CPU backend; the text says why.
    Cpu(String),
    /// Refuse the run (a usage error): the text says why and what to do.
    Refuse(String),
}

/// How much a device type is preferred: discrete before integrated before virtual
/// before others; a software adapter (device type Cpu) last of all.
fn rank(adapter: &AdapterSummary) -> u8 {
    match adapter.device_type.as_str() {
        "DiscreteGpu" => 0,
        "IntegratedGpu" => 1,
        "VirtualGpu" => 2,
        _ if adapter.is_software() => 4,
        _ => 3,
    }
}

/// The one place that decides where a run goes. `cpu` runs on the CPU; `auto` takes
/// the most preferred hardware adapter and never a software one (lavapipe runs the
/// engine slower than the CPU backend on the same cores), else the CPU; `gpu` takes
/// the most preferred adapter of any kind, software included, and is refused when
/// there is none. With `wanted`, only the adapters whose names contain it count, and
/// naming none is refused.
pub fn choose_adapter(
    choice: BackendChoice,
    adapters: &[AdapterSummary],
    wanted: Option<&str>,
) -> AdapterChoice {
    if choice == BackendChoice::Cpu {
        return AdapterChoice::Cpu("backend ".into());
    }
    let names = || {
        if adapters.is_empty() {
            "none".to_string()
        } else {
            adapters
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let candidates: Vec<usize> = match wanted {
        Some(w) => {
            let w = w.to_lowercase();
            let hits: Vec<usize> = (0..adapters.len())
                .filter(|&i| adapters[i].name.to_lowercase().contains(&w))
                .collect();
            if hits.is_empty() {
                return AdapterChoice::Refuse(format!(
                    "WGPU_ADAPTER_NAME={w}: no adapter's name contains it (adapters: {})",
                    names()
                ));
            }
            hits
        }
        None => (0..adapters.len()).collect(),
    };
    // The first of the most preferred kind, in the order wgpu lists them.
    let best = candidates
        .iter()
        .copied()
        .min_by_key(|&i| rank(&adapters[i]));
    match (choice, best) {
        (BackendChoice::Auto, Some(i)) if adapters[i].is_software() => AdapterChoice::Cpu(format!(
            "backend auto: the only adapter{}, {}, run{} on the CPU and {} slower than the CPU backend (--backend gpu uses {}); using ",
            if candidates.len() == 1 { "" } else { "s" },
            candidates.iter().map(|&k| adapters[k].describe()).collect::<Vec<_>>().join(", "),
            if candidates.len() == 1 { "s" } else { "" },
            if candidates.len() == 1 { "is" } else { "are" },
            if candidates.len() == 1 { "it" } else { "them" },
        )),
        (BackendChoice::Auto, Some(i)) => AdapterChoice::Gpu(
            i,
            format!("backend auto: using gpu {}", adapters[i].describe()),
        ),
        (BackendChoice::Auto, None) => {
            AdapterChoice::Cpu("backend auto: no GPU adapter found; using ".into())
        }
        (_, Some(i)) => AdapterChoice::Gpu(i, format!("backend gpu {}", adapters[i].describe())),
        (_, None) => AdapterChoice::Refuse(
            "--backend gpu: wgpu finds no GPU adapter (asemc devices lists them; on Debian, mesa-vulkan-drivers provides lavapipe); use --backend cpu or auto".into(),
        ),
    }
}

/// What [`open_adapter`] opened.
pub enum Opened {
    /// A device, and the log line saying which and why.
    Gpu(Box<Gpu>, String),
    /// No device: the CPU, and the start of the log line saying why.
    Cpu(String),
}

/// Find the adapters, choose as [`choose_adapter`] does and open the chosen one.
pub fn open_adapter(choice: BackendChoice) -> Result<Opened> {
    if choice == BackendChoice::Cpu {
        return Ok(Opened::Cpu("backend ".into()));
    }
    let mut found = crate::gpu::found();
    let summaries: Vec<AdapterSummary> = found.iter().map(|(_, s)| s.clone()).collect();
    let wanted = std::env::var("WGPU_ADAPTER_NAME").ok();
    match choose_adapter(choice, &summaries, wanted.as_deref()) {
        AdapterChoice::Gpu(i, why) => {
            Ok(Opened::Gpu(Box::new(Gpu::on(found.swap_remove(i).0)?), why))
        }
        AdapterChoice::Cpu(why) => Ok(Opened::Cpu(why)),
        AdapterChoice::Refuse(why) => Err(Error::Usage(why)),
    }
}

/// The backend for `choice`, with a line for the log saying what was chosen and why.
/// `threads` sizes the CPU backend's pool, or the GPU backend's host pool (the ASE
/// engine's books: starting the packets and settling their exchange).
pub fn select(choice: BackendChoice, threads: Option<usize>) -> Result<(Box<dyn Backend>, String)> {
    match open_adapter(choice)? {
        Opened::Cpu(why) => {
            let cpu = CpuBackend::new(threads)?;
            let line = format!("{why}cpu ({})", cpu.adapter());
            Ok((Box::new(cpu), line))
        }
        Opened::Gpu(gpu, why) => {
            let host = CpuBackend::new(threads)?;
            let line = format!("{why} (host: {})", host.adapter());
            Ok((Box::new(GpuBackend::new(*gpu, host)), line))
        }
    }
}

/// The work units of one point, for progress bars: photon packets for the passive
/// sources, time steps for the pump source.
pub fn work_units(config: &Config) -> u64 {
    match config.source.kind {
        crate::config::SourceKind::Pump => config.run.steps() * u64::from(config.run.replicas),
        _ => config.source.photons,
    }
}

#[cfg(test)]
mod tests {
    use super::{AdapterChoice, BackendChoice, choose_adapter};
    use crate::gpu::AdapterSummary;

    fn adapter(name: &str, device_type: &str) -> AdapterSummary {
        AdapterSummary {
            name: name.into(),
            backend: "vulkan".into(),
            device_type: device_type.into(),
            driver: String::new(),
        }
    }

    fn lavapipe() -> AdapterSummary {
        adapter("llvmpipe (LLVM 15.0.6, 256 bits)", "Cpu")
    }

    fn picked(choice: BackendChoice, list: &[AdapterSummary], wanted: Option<&str>) -> String {
        match choose_adapter(choice, list, wanted) {
            AdapterChoice::Gpu(i, _) => list[i].name.clone(),
            AdapterChoice::Cpu(_) => "cpu".into(),
            AdapterChoice::Refuse(_) => "refused".into(),
        }
    }

    #[test]
    fn cpu_is_the_cpu_whatever_the_adapters() {
        for list in [
            vec![],
            vec![lavapipe()],
            vec![adapter("RTX", "DiscreteGpu")],
        ] {
            assert_eq!(picked(BackendChoice::Cpu, &list, None), "cpu");
        }
    }

    #[test]
    fn auto_takes_the_best_hardware_adapter_and_never_a_software_one() {
        assert_eq!(picked(BackendChoice::Auto, &[], None), "cpu");
        assert_eq!(picked(BackendChoice::Auto, &[lavapipe()], None), "cpu");
        let two_soft = [lavapipe(), adapter("SwiftShader", "Cpu")];
        assert_eq!(picked(BackendChoice::Auto, &two_soft, None), "cpu");
        // Listed software first, integrated, discrete: the discrete one.
        let mixed = [
            lavapipe(),
            adapter("Intel UHD", "IntegratedGpu"),
            adapter("RTX 4090", "DiscreteGpu"),
        ];
        assert_eq!(picked(BackendChoice::Auto, &mixed, None), "RTX 4090");
        assert_eq!(picked(BackendChoice::Auto, &mixed[..2], None), "Intel UHD");
        let odd = [
            lavapipe(),
            adapter("vGPU", "VirtualGpu"),
            adapter("X", "Other"),
        ];
        assert_eq!(picked(BackendChoice::Auto, &odd, None), "vGPU");
        // Of two of a kind, the first wgpu lists.
        let twins = [adapter("A", "DiscreteGpu"), adapter("B", "DiscreteGpu")];
        assert_eq!(picked(BackendChoice::Auto, &twins, None), "A");
        // The log says why the CPU runs.
        match choose_adapter(BackendChoice::Auto, &[lavapipe()], None) {
            AdapterChoice::Cpu(why) => assert!(
                why.contains("llvmpipe") && why.contains("--backend gpu uses it"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gpu_takes_a_software_adapter_only_when_there_is_nothing_better() {
        assert_eq!(picked(BackendChoice::Gpu, &[], None), "refused");
        assert!(picked(BackendChoice::Gpu, &[lavapipe()], None).starts_with("llvmpipe"));
        let mixed = [lavapipe(), adapter("Radeon", "IntegratedGpu")];
        assert_eq!(picked(BackendChoice::Gpu, &mixed, None), "Radeon");
    }

    #[test]
    fn a_wanted_name_narrows_the_list_and_naming_none_is_refused() {
        let mixed = [lavapipe(), adapter("RTX 4090", "DiscreteGpu")];
        assert!(picked(BackendChoice::Gpu, &mixed, Some("LLVMpipe")).starts_with("llvmpipe"));
        // auto still never takes the software adapter it was pointed at.
        assert_eq!(picked(BackendChoice::Auto, &mixed, Some("llvmpipe")), "cpu");
        assert_eq!(picked(BackendChoice::Auto, &mixed, Some("rtx")), "RTX 4090");
        for choice in [BackendChoice::Auto, BackendChoice::Gpu] {
            match choose_adapter(choice, &mixed, Some("quadro")) {
                AdapterChoice::Refuse(why) => {
                    assert!(why.contains("quadro") && why.contains("RTX 4090"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
