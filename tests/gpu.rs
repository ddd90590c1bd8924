//! The GPU backend on a real adapter (lavapipe in CI). Without an adapter these tests
//! print that they were skipped, except under CI (`ASEMC_REQUIRE_GPU` set), where a
//! missing adapter fails them.

mod common;
use std::time::Instant;

use asemc::config::Config;
use asemc::gpu::{Gpu, philox_numbers, transport};
use asemc::rng::{Purpose, Stream};
use asemc::transport::{Channel, Tally, TransportSetup};
use common::{assert_within_sigma, config, configs_dir, gpu};

#[test]
fn wgsl_philox_equals_the_rust_generator() {
    let Some(gpu) = gpu() else { return };
    for (seed, purpose, point, step) in [
        (0u64, Purpose::Transport, 0u32, 0u32),
        (2021, Purpose::Photon, 7, 1234),
        (u64::MAX, Purpose::Exchange, 65_535, (1 << 28) - 1),
        (0x0123_4567_89AB_CDEF, Purpose::Spontaneous, 3, 99),
    ] {
        let (streams, per_stream) = (100u32, 100u32);
        let got = philox_numbers(&gpu, seed, purpose, point, step, streams, per_stream).unwrap();
        let mut want = Vec::new();
        for entity in 0..streams {
            let mut s = Stream::new(seed, purpose, point, step, entity);
            want.extend((0..per_stream).map(|_| s.next_u32()));
        }
        assert_eq!(got.len(), want.len());
        let first_bad = got.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            first_bad.is_none(),
            "seed {seed}, {purpose:?}: number {} differs: {} vs {}",
            first_bad.unwrap(),
            got[first_bad.unwrap()],
            want[first_bad.unwrap()]
        );
    }
}

/// The MCML benchmark slab of `configs/validation/mcml_slab.toml` with index `n`.
fn slab(n: f64) -> Config {
    let text = std::fs::read_to_string(configs_dir().join("validation/mcml_slab.toml")).unwrap();
    let mut c = config(&text);
    c.film.refractive_index = n;
    c
}

fn on_gpu(gpu: &Gpu, c: &Config) -> Tally {
    let setup = TransportSetup::from_config(c).unwrap();
    let start = Instant::now();
    let t = transport::simulate(gpu, &setup, 0, &|_| {}).unwrap();
    let s = start.elapsed().as_secs_f64();
    println!(
        "GPU: {} packets in {s:.2} s ({:.3e} packets/s, {:.3e} photon steps/s)",
        t.photons,
        t.photons as f64 / s,
        t.steps as f64 / s
    );
    t
}

/// The GPU's and the CPU's passive transport trace every packet on the same random
/// stream, so they differ by single precision's rounding alone, not by Monte Carlo
/// noise: a channel's share within 1e-5 of itself (measured at most 2.5e-6) plus one
/// packet in `packets` (a packet may take the other branch of a draw that falls within
/// rounding of a threshold; none did here).
fn assert_shared_streams(what: &str, gpu: f64, cpu: f64, packets: u64) {
    let allowed = 1e-5 * cpu.abs() + 1.0 / packets as f64;
    assert!(
        (gpu - cpu).abs() <= allowed,
        "{what}: GPU {gpu:.9} vs CPU {cpu:.9} on the same streams: {:.2e} apart (allowed {allowed:.2e})",
        gpu - cpu
    );
}

/// The GPU transport on the MCML slabs: within 3σ of van de Hulst's and MCML's
/// reflectance and transmittance, and the CPU reference's on the same streams.
#[test]
fn gpu_transport_matches_the_mcml_benchmarks_and_the_cpu() {
    let Some(gpu) = gpu() else { return };
    for (n, specular, top, bottom) in [(1.0, 0.0, 0.09739, 0.66096), (1.5, 0.04, 0.08683, 0.49317)]
    {
        let c = slab(n);
        let g = on_gpu(&gpu, &c);
        let start = Instant::now();
        let cpu = common::transport(&c, 2);
        let s = start.elapsed().as_secs_f64();
        println!(
            "CPU (2 threads): {:.3e} packets/s, {:.3e} photon steps/s",
            cpu.photons as f64 / s,
            cpu.steps as f64 / s
        );
        // Booked alike for every packet: single precision's rounding of R alone (2.8e-9 measured).
        assert!((g.mean(Channel::Specular) - specular).abs() < 1e-8);
        for (channel, reference) in [(Channel::Top, top), (Channel::Bottom, bottom)] {
            let (v, e) = (g.mean(channel), g.stderr(channel));
            assert!(e > 0.0 && e < 1e-3, "{}: stderr {e}", channel.name());
            assert_within_sigma(
                &format!("GPU n = {n} {}", channel.name()),
                v,
                e,
                reference,
                3.0,
            );
        }
        for channel in Channel::ALL {
            let (a, b) = (g.mean(channel), cpu.mean(channel));
            assert_shared_streams(&format!("n = {n} {}", channel.name()), a, b, cpu.photons);
        }
    }
}

/// A thick, strongly scattering slab, where the 64 packets an invocation traces take
/// some 6·10⁴ interactions together: more than lavapipe runs the kernel's loop (65535
/// counts, a pass counting about twice; with a limit of 60000 passes the kernel lost 8 %
/// of the light here), so the kernel stops after 30000 and the host traces the rest on
/// the CPU. Every packet is accounted for, and the result is the CPU's.
#[test]
fn packets_past_the_devices_loop_limit_are_traced_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut c = slab(1.5);
    c.film.absorption_per_cm = 0.1;
    c.film.scattering_per_cm = 10_000.0;
    c.film.anisotropy = 0.0;
    c.source.photons = 10_000;
    let g = on_gpu(&gpu, &c);
    let cpu = common::transport(&c, 2);
    let steps_per_packet = cpu.steps as f64 / cpu.photons as f64;
    println!("{steps_per_packet:.0} interactions a packet");
    assert!(64.0 * steps_per_packet > 2.0 * 30_000.0);
    // Every channel's share summed (some channels overlap), on each backend.
    let total = |t: &Tally| -> f64 { Channel::ALL.iter().map(|&ch| t.mean(ch)).sum() };
    let (on_device, on_host) = (total(&g), total(&cpu));
    assert!(
        (on_device - on_host).abs() < 1e-5,
        "the channels hold {on_device} of the light on the GPU, {on_host} on the CPU"
    );
    for channel in Channel::ALL {
        let (a, b) = (g.mean(channel), cpu.mean(channel));
        assert_shared_streams(channel.name(), a, b, cpu.photons);
    }
}

/// The same seed gives the same tallies, bit for bit, run after run.
#[test]
fn gpu_transport_is_reproducible() {
    let Some(gpu) = gpu() else { return };
    let mut c = slab(1.5);
    c.source.photons = 100_000;
    let a = on_gpu(&gpu, &c);
    let b = on_gpu(&gpu, &c);
    assert_eq!(a, b);
    c.run.seed += 1;
    assert_ne!(on_gpu(&gpu, &c).sum, a.sum);
}

/// `asemc run` of shipped config `config` with `args`, into `gpu.h5` and `cpu.h5` in
/// `dir`, each with its backend named in the log.
fn run_on_both_backends(dir: &std::path::Path, config: &str, args: &[&str]) {
    for backend in ["gpu", "cpu"] {
        let out = format!("{backend}.h5");
        let mut all = vec!["-o", &out, "--backend", backend];
        all.extend_from_slice(args);
        let o = common::run_config("run", config, &all, dir);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("backend {backend}")));
    }
}

/// `asemc run --backend gpu` on a pump config: the ASE engine runs on the GPU, the file
/// says so, the detector sees light and the books balance. (The GPU draws its packets
/// on its own streams; its agreement with the CPU backend within the errors is
/// `tests/gpu_ase.rs`'s.)
#[test]
fn a_pump_run_on_the_gpu_backend() {
    let Some(_) = gpu() else { return };
    let dir = common::scratch("gpu-pump");
    run_on_both_backends(
        &dir,
        "examples/fluence_sweep.toml",
        &[
            "--set",
            "sweep.axes=[{key=\"pump.fluence_uj_cm2\", values=[1.0]}]",
            "--set",
            "run.duration_ps=1",
            "--set",
            "run.replicas=2",
        ],
    );
    let read = |name: &str| {
        let r = asemc::output::OutputReader::open(&dir.join(name)).unwrap();
        let p = r.points().unwrap().remove(0);
        let get = |k: &str| p.scalars.iter().find(|(n, _)| n == k).unwrap().1;
        (
            r.root_str("backend").unwrap(),
            get("edge_photons"),
            get("energy_balance_error"),
        )
    };
    let (gb, g_edge, g_balance) = read("gpu.h5");
    let (cb, c_edge, _) = read("cpu.h5");
    assert_eq!((gb.as_str(), cb.as_str()), ("gpu", "cpu"));
    println!("edge photons: gpu {g_edge}, cpu {c_edge}; energy balance error {g_balance:.2e}");
    assert!(g_edge > 0.0 && c_edge > 0.0);
    assert!(
        g_balance.abs() <= common::GPU_BALANCE_ROUNDING,
        "energy balance error {g_balance:e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `asemc run --backend gpu` end to end: the file records the GPU, and its results
/// agree with `--backend cpu` within 3σ.
#[test]
fn a_run_on_the_gpu_backend_agrees_with_the_cpu_backend() {
    let Some(_) = gpu() else { return };
    let dir = common::scratch("gpu-run");
    run_on_both_backends(&dir, "quickstart.toml", &["--set", "source.photons=50000"]);
    let read = |name: &str| {
        let r = asemc::output::OutputReader::open(&dir.join(name)).unwrap();
        (r.root_str("backend").unwrap(), r.points().unwrap())
    };
    let (gb, g) = read("gpu.h5");
    let (cb, c) = read("cpu.h5");
    assert_eq!((gb.as_str(), cb.as_str()), ("gpu", "cpu"));
    for (pg, pc) in g.iter().zip(&c) {
        for ((name, vg), (_, vc)) in pg.scalars.iter().zip(&pc.scalars) {
            if name.ends_with("_stderr") {
                continue;
            }
            assert_shared_streams(name, *vg, *vc, 50_000);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every struct shared between Rust and WGSL, as `gpu::shared::structs()` lists them
/// (the one list the WGSL declarations are emitted from), has the same size and field
/// offsets in naga's layout of the emitted WGSL as in Rust's `#[repr(C)]` layout: a
/// field whose WGSL type aligns differently (a `vec3` or `vec4`) would fail it. Every
/// kernel's module holds every struct, and none declares one of its own by these names.
#[test]
fn structs_shared_with_wgsl_have_the_same_layout() {
    let structs = asemc::gpu::shared::structs();
    assert!(structs.len() >= 20, "{} shared structs", structs.len());
    for kernel in [
        "transport",
        "ase_transport",
        "cell_gain",
        "platelet_decay",
        "platelet_booking",
        "spontaneous_emission",
        "tallies",
        "rng_check",
        "random_walk",
    ] {
        let source = asemc::gpu::shaders::source(kernel);
        let module = naga::front::wgsl::parse_str(&source).unwrap();
        for st in &structs {
            let declared = format!("struct {} {{", st.name);
            assert_eq!(
                source.matches(&declared).count(),
                1,
                "{kernel}: {} declared once",
                st.name
            );
            let ty = module
                .types
                .iter()
                .find(|(_, t)| t.name.as_deref() == Some(st.name))
                .unwrap_or_else(|| panic!("{kernel}: no struct {}", st.name))
                .1;
            let naga::TypeInner::Struct { members, span } = &ty.inner else {
                panic!("{kernel}: {} is not a struct", st.name)
            };
            assert_eq!(*span as usize, st.size, "{kernel}: size of {}", st.name);
            let wgsl: Vec<(String, usize)> = members
                .iter()
                .map(|m| (m.name.clone().unwrap(), m.offset as usize))
                .collect();
            let rust: Vec<(String, usize)> = st
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.offset))
                .collect();
            assert_eq!(wgsl, rust, "{kernel}: fields of {}", st.name);
        }
    }
}

/// `check` reports the device memory a passive or a pump run needs on the adapter.
#[test]
fn check_reports_the_gpu_memory_of_a_run() {
    let Some(_) = gpu() else { return };
    // The `# gpu` line of `asemc check` on shipped config `config` with `args`.
    let gpu_line = |config: &str, args: &[&str]| -> String {
        let o = common::run_config("check", config, args, std::path::Path::new("."));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with("# gpu "))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string()
    };
    // 10⁶ packets of 64-byte records, and their read-back copy: 122 MiB.
    let line = gpu_line("validation/mcml_slab.toml", &[]);
    assert!(line.contains("needs 122.1 MiB of device memory"), "{line}");

    // A pump run: one dispatch of up to 2¹⁸ packets (limited by the 128 MiB binding
    // on lavapipe to no fewer) at 176 bytes (48 of state, 8 exchange entries of 16)
    // with read-back copies, and 48 bytes of uploaded state, plus the gain of
    // 30 × 3 cells × 80 bins with its read-back copy, the cells' excitons, all
    // 18000 platelets listed once (8 bytes each, in whole rows of 4096), and the
    // platelets' own buffers (`gpu::platelets::memory_needed`, 0.9 MiB, with room for
    // the draws of 1024 packets a step): 101.2 MiB.
    let line = gpu_line(
        "examples/fluence_sweep.toml",
        &[
            "--set",
            "run.duration_ps=0.1",
            "--set",
            "run.packets_per_step=1024",
        ],
    );
    assert!(
        line.contains("needs at most 101.2 MiB")
            && line.contains("dispatches of up to 262144 packets"),
        "{line}"
    );
}

/// A device error in the middle of a sweep, passive or pump, ends the run with a
/// one-line message (exit 1), the points already finished stay in the partial run,
/// and `--resume` completes the run to the same results as an uninterrupted one.
#[test]
fn a_device_error_keeps_the_finished_points() {
    let Some(_) = gpu() else { return };
    // The passive transport, and the ASE engine (pump source).
    let cases: [(&str, &[&str]); 2] = [
        ("quickstart.toml", &["--set", "source.photons=20000"]),
        (
            "examples/fluence_sweep.toml",
            &[
                "--set",
                "sweep.axes=[{key=\"pump.fluence_uj_cm2\", values=[1.0, 2.0, 4.0]}]",
                "--set",
                "run.duration_ps=0.5",
                "--set",
                "run.replicas=2",
            ],
        ),
    ];
    for (config, args) in cases {
        let dir = common::scratch("gpu-fault");
        let cfg = configs_dir().join(config);
        let run = |out: &str, fault: Option<&str>, resume: bool| {
            let mut cmd = common::asemc();
            cmd.args(["run", cfg.to_str().unwrap(), "-o", out, "--backend", "gpu"])
                .args(args)
                .current_dir(&dir);
            if resume {
                cmd.arg("--resume");
            }
            if let Some(point) = fault {
                cmd.env("ASEMC_GPU_FAULT_AT_POINT", point);
            }
            cmd.output().unwrap()
        };
        let o = run("cut.h5", Some("2"), false);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{config}: {err}");
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with("error: sweep point 2: GPU ")
                && last.contains("validation error")
                && last.ends_with("finished points are in cut.h5.partial"),
            "{config}: {err}"
        );
        assert!(!dir.join("cut.h5").exists());
        let partial = asemc::output::OutputReader::open(&dir.join("cut.h5.partial")).unwrap();
        assert_eq!(partial.points().unwrap().len(), 2, "{config}");
        drop(partial);

        let o = run("cut.h5", None, true);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = run("whole.h5", None, false);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (a, b) = (
            common::contents(&dir.join("cut.h5")),
            common::contents(&dir.join("whole.h5")),
        );
        assert_eq!(a, b, "{config}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Without XDG_RUNTIME_DIR, Mesa's drivers would print an "error" that is none; asemc
/// gives itself a private runtime directory first, so a user sees nothing of it.
#[test]
fn no_spurious_runtime_dir_error_without_xdg_runtime_dir() {
    let o = common::asemc()
        .arg("devices")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
}

/// WGPU_ADAPTER_NAME that matches no adapter is bad input: exit 2, naming the variable.
#[test]
fn an_unknown_adapter_name_is_refused() {
    let cfg = configs_dir().join("quickstart.toml");
    let dir = common::scratch("gpu-name");
    let o = common::asemc()
        .args([
            "run",
            cfg.to_str().unwrap(),
            "-o",
            "x.h5",
            "--backend",
            "gpu",
        ])
        .env("WGPU_ADAPTER_NAME", "no-such-adapter")
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("WGPU_ADAPTER_NAME=no-such-adapter: no adapter's name contains it"),
        "{err}"
    );
    assert!(!dir.join("x.h5").exists() && !dir.join("x.h5.partial").exists());
    std::fs::remove_dir_all(&dir).ok();
}
