//! Records the git commit and the hash of the sources the binary was built from
//! (written into every output file), and validates every WGSL kernel with naga so
//! that a broken shader fails the build.

use std::path::Path;
use std::process::Command;

/// The hash of the sources, as the crate computes it.
#[path = "src/build_hash.rs"]
mod build_hash;

/// The constants and structs the kernels share with Rust, emitted for WGSL as the
/// crate emits them.
#[path = "src/gpu/shared/mod.rs"]
#[allow(dead_code, unused_imports)]
mod shared;

/// Every kernel in `shaders/`, prefixed with the shared constants and structs of `src/gpu/shared/`
/// and the shared files in `shaders/shared/` (in name order) exactly as
/// `src/gpu/shaders.rs` composes them, must parse and validate.
fn validate_shaders() {
    println!("cargo:rerun-if-changed=shaders");
    println!("cargo:rerun-if-changed=src/gpu/shared");
    let files = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
            .collect();
        v.sort();
        v
    };
    let shared: String = std::iter::once(shared::wgsl())
        .chain(
            files(Path::new("shaders/shared"))
                .iter()
                .map(|p| std::fs::read_to_string(p).expect("readable shader")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    for kernel in files(Path::new("shaders")) {
        let source = format!(
            "{shared}\n{}",
            std::fs::read_to_string(&kernel).expect("readable shader")
        );
        let name = kernel.display().to_string();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
    }
}

fn main() {
    validate_shaders();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hash = build_hash::source_hash(root, &build_hash::SOURCES)
        .unwrap_or_else(|e| panic!("hashing the sources: {e}"));
    println!("cargo:rustc-env=ASEMC_SOURCE_HASH={hash}");
    for s in build_hash::SOURCES {
        println!("cargo:rerun-if-changed={s}");
    }
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let commit = if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    };
    println!("cargo:rustc-env=ASEMC_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
