//! A property test of the config loader: every shipped config, mutated at random (a
//! value replaced by a negative, zero, huge, non-finite or wrongly typed one, a key
//! removed, an unknown key added, a value moved to another key), is either accepted
//! or refused as bad input (exit status 2) naming the key at fault, and nothing
//! panics. Accepted configs of modest size are also turned into the engines' setups,
//! and 20 of the refused ones are given to the asemc binary, which exits with 2.
//! The CI suite tries 3000 mutants; the long suite (`--ignored`) 100 000.

mod common;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use asemc::config::{SourceKind, from_text};
use asemc::error::Error;
use toml::{Table, Value};

/// SplitMix64: a small, seedable generator, so every mutant can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One step of a path into a TOML document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The paths of every value in `v` (tables and arrays too, not the root).
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Table(t) => {
            for (k, child) in t {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match (s, v) {
        (Step::Key(k), Value::Table(t)) => t.get_mut(k).unwrap(),
        (Step::Index(i), Value::Array(a)) => &mut a[*i],
        _ => unreachable!("paths are taken from the document"),
    })
}

/// Change the value at a random path of `doc` in one of the ways a user's typo or a
/// script's bug would.
fn mutate(doc: &mut Value, rng: &mut Rng) -> String {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let path = all[rng.below(all.len())].clone();
    let shown: Vec<String> = path
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect();
    let other = all[rng.below(all.len())].clone();
    let donor = get_mut(doc, &other).clone();
    let kind = rng.below(14);
    let (parent, last) = path.split_at(path.len() - 1);
    let target = get_mut(doc, &path);
    let scale = |v: &Value, by: f64| match v {
        Value::Integer(i) => Value::Integer(((*i as f64) * by).clamp(-9e18, 9e18) as i64),
        Value::Float(f) => Value::Float(f * by),
        other => other.clone(),
    };
    match kind {
        0 => *target = Value::Integer(-1),
        1 => *target = Value::Float(-0.5),
        2 => *target = Value::Integer(0),
        3 => *target = Value::Float(0.0),
        4 => *target = Value::Integer(i64::MAX),
        5 => *target = Value::Float(1e308),
        6 => *target = Value::Float(f64::NAN),
        7 => *target = Value::Float(f64::INFINITY),
        8 => *target = Value::String("x".into()),
        9 => *target = Value::Array(Vec::new()),
        10 => *target = scale(target, if rng.below(2) == 0 { 1e6 } else { 1e-6 }),
        11 => *target = scale(target, -1.0),
        12 => *target = donor,
        _ => {
            // Remove the value, or give its table a key nobody knows.
            let holder = get_mut(doc, parent);
            match (holder, &last[0]) {
                (Value::Table(t), Step::Key(k)) if rng.below(2) == 0 => {
                    t.remove(k);
                }
                (Value::Table(t), _) => {
                    t.insert("bogus_key".into(), Value::Integer(1));
                }
                (Value::Array(a), Step::Index(i)) => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
    }
    format!("{} (mutation {kind})", shown.join("."))
}

/// Every shipped config: its path and text.
fn shipped() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![common::configs_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 7, "the shipped configs: {out:?}");
    out
}

/// A refusal names what is at fault: the config's key (or the swept axis), or says the
/// file is not the TOML it should be.
fn names_a_key(e: &Error) -> bool {
    match e {
        Error::Config(c) => c.key.as_deref().is_some_and(|k| !k.is_empty()),
        _ => false,
    }
}

/// Build the engine's setup of each point of an accepted config of modest size: what
/// the loader accepts, the engine must take (a refusal there is a gap in validation).
fn set_up(resolved: &asemc::config::Resolved) -> Result<(), String> {
    for c in resolved.points.iter().take(4) {
        let cells =
            u64::from(c.grid.cells_x) * u64::from(c.grid.cells_y) * u64::from(c.grid.cells_z);
        let built = if c.source.kind == SourceKind::Pump {
            if cells * u64::from(c.platelets.samples_per_cell) > 200_000 {
                continue;
            }
            asemc::ase::AseSetup::from_config(c).map(|_| ())
        } else {
            asemc::transport::TransportSetup::from_config(c).map(|_| ())
        };
        built.map_err(|e| format!("accepted, but the engine refuses it: {e}"))?;
    }
    Ok(())
}

/// Run the asemc binary on each refused mutant (text, key at fault): exit status 2
/// and the key in its message.
fn refused_by_the_binary(refused: &[(String, String)]) {
    let dir = common::scratch("fuzz-config");
    for (k, (text, key)) in refused.iter().enumerate() {
        let path = dir.join(format!("m{k}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = common::run_asemc(&["run", path.to_str().unwrap(), "-o", "x.h5"], &dir);
        let log = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}:\n{log}\n{text}");
        assert!(log.contains(key.as_str()), "{key} not named:\n{log}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn fuzz(mutants: usize, seed: u64) {
    let configs = shipped();
    let mut sample: Vec<(String, String)> = Vec::new();
    let mut rng = Rng(seed);
    let (mut accepted, mut refused) = (0, 0);
    for m in 0..mutants {
        let (path, text) = &configs[m % configs.len()];
        let mut doc = Value::Table(text.parse::<Table>().unwrap());
        let changes: Vec<String> = (0..1 + rng.below(3))
            .map(|_| mutate(&mut doc, &mut rng))
            .collect();
        let Value::Table(table) = doc else {
            unreachable!()
        };
        let mutated = toml::to_string(&table).unwrap();
        let what = format!("mutant {m} of {}: {}", path.display(), changes.join(", "));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let r = from_text(Path::new("mutant.toml"), &mutated, &[]);
            let gap = r.as_ref().ok().and_then(|resolved| set_up(resolved).err());
            (r.map(|_| ()), gap)
        }));
        if let Ok((_, Some(gap))) = &outcome {
            panic!("{what}: {gap}\n{mutated}");
        }
        match outcome.map(|(r, _)| r) {
            Err(_) => panic!("{what}: the loader or the engine's setup panicked on\n{mutated}"),
            Ok(Ok(())) => accepted += 1,
            Ok(Err(e)) => {
                assert_eq!(e.exit_code(), 2, "{what}: {e}");
                assert!(names_a_key(&e), "{what}: the refusal names no key: {e}");
                if let (Error::Config(c), true) = (&e, sample.len() < 20) {
                    sample.push((mutated.clone(), c.key.clone().unwrap_or_default()));
                }
                refused += 1;
            }
        }
    }
    // The mutations must reach both outcomes, or they test nothing.
    assert!(refused > mutants / 4, "{refused} of {mutants} refused");
    assert!(accepted > mutants / 50, "{accepted} of {mutants} accepted");
    eprintln!("{mutants} mutants: {accepted} accepted, {refused} refused");
    refused_by_the_binary(&sample);
}

#[test]
fn mutated_shipped_configs_are_accepted_or_refused_naming_a_key() {
    fuzz(3_000, 1);
}

#[test]
#[ignore = "long suite: 100 000 mutants"]
fn many_mutated_shipped_configs_are_accepted_or_refused_naming_a_key() {
    fuzz(100_000, 2);
}
