//! The hash of the sources a binary is built from, recorded in every output file so
//! that `merge` can tell shards of different builds apart even where git cannot (an
//! edited tree at one commit, a build outside git). `build.rs` includes this file by
//! path and hashes `SOURCES`; the crate unit-tests the same function.
//!
//! The hash is 64-bit FNV-1a (Fowler, Noll & Vo) over every file below the sources,
//! in the order of their paths relative to the root, each as its path, a zero byte,
//! its length and its bytes: any change of content, name, or set of files changes it.
//! It tells builds apart; it is not a defence against anyone forging a file.

use std::path::{Path, PathBuf};

/// What the hash covers, relative to the crate's root.
pub const SOURCES: [&str; 5] = ["src", "shaders", "build.rs", "Cargo.toml", "Cargo.lock"];

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Every file at or below `path`, into `out`.
fn files_below(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            files_below(&entry?.path(), out)?;
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// The hash of the files at or below `sources` (relative to `root`; missing ones are
/// left out), as 16 hex digits.
pub fn source_hash(root: &Path, sources: &[&str]) -> std::io::Result<String> {
    let mut files = Vec::new();
    for s in sources {
        files_below(&root.join(s), &mut files)?;
    }
    let mut named: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect();
    named.sort();
    let mut h = FNV_OFFSET;
    for (rel, path) in named {
        let bytes = std::fs::read(&path)?;
        h = fnv(h, rel.as_bytes());
        h = fnv(h, &[0]);
        h = fnv(h, &(bytes.len() as u64).to_le_bytes());
        h = fnv(h, &bytes);
    }
    Ok(format!("{h:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small tree under a fresh directory.
    fn tree(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("asemc-hash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (rel, bytes) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        root
    }

    #[test]
    fn trees_differing_by_one_byte_or_one_name_hash_apart() {
        let base: [(&str, &[u8]); 3] = [
            ("src/a.rs", b"fn a() {}"),
            ("src/sub/b.rs", b"fn b() {}"),
            ("Cargo.lock", b"lock"),
        ];
        let hash = |root: &Path| source_hash(root, &["src", "Cargo.lock", "absent"]).unwrap();
        let a = tree("a", &base);
        let same = tree("same", &base);
        assert_eq!(hash(&a), hash(&same), "the same tree elsewhere");
        let mut byte = base;
        byte[1].1 = b"fn b() {{";
        let mut renamed = base;
        renamed[1].0 = "src/sub/c.rs";
        let mut moved = base;
        moved[0] = ("src/a.r", b"sfn a() {}");
        for (name, other) in [("byte", byte), ("renamed", renamed), ("moved", moved)] {
            let t = tree(name, &other);
            assert_ne!(hash(&a), hash(&t), "{name}");
            std::fs::remove_dir_all(t).ok();
        }
        assert_eq!(hash(&a).len(), 16);
        std::fs::remove_dir_all(a).ok();
        std::fs::remove_dir_all(same).ok();
    }
}
