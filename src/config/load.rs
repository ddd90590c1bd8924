//! Reading a config file: TOML parsing, `--set` overrides, deserialization with unknown
//! keys rejected, range checks, and sweep expansion. Every error is located in the
//! file (line:column) when the offending value is there, or attributed to `--set`.

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::{Spanned, Table, Value};

use super::schema::Config;
use super::sweep::{self, Plan};
use super::validate::validate;
use crate::error::{ConfigError, Error, Result};

/// A config ready to run: the base point, the sweep plan and every point's config.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The file it was read from.
    pub path: PathBuf,
    /// The base config with overrides applied (its `sweep` as written).
    pub base: Config,
    /// The expanded sweep (one point with no keys when there is no sweep).
    pub plan: Plan,
    /// The config of every sweep point, in point order, each with `sweep = None`.
    pub points: Vec<Config>,
}

impl Resolved {
    /// The resolved configuration (defaults filled in, overrides applied) as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.base).unwrap_or_else(|e| format!("# not representable: {e}"))
    }
}

/// Read, override, check and expand the config at `path`.
pub fn load(path: &Path, overrides: &[String]) -> Result<Resolved> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "config file not found; give the path of a TOML config such as configs/quickstart.toml".to_string(),
            _ => format!("cannot read the config file: {e}"),
        },
    })?;
    from_text(path, &text, overrides)
}

/// As [`load`], with the file's text given (used by `load` and by tests).
pub fn from_text(path: &Path, text: &str, overrides: &[String]) -> Result<Resolved> {
    let spans = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            return Err(ConfigError {
                file: path.to_path_buf(),
                key: None,
                line_col: e.span().map(|s| line_col(text, s.start)),
                origin: None,
                message: format!("not valid TOML: {}", e.message().trim()),
            }
            .into());
        }
    };
    let mut table: Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
        file: path.to_path_buf(),
        key: None,
        line_col: e.span().map(|s| line_col(text, s.start)),
        origin: None,
        message: format!("not valid TOML: {}", e.message().trim()),
    })?;
    let locator = Locator {
        file: path,
        text,
        doc: spans,
        overridden: overrides
            .iter()
            .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim().to_string()))
            .collect(),
    };
    for o in overrides {
        apply_override(&mut table, o)?;
    }

    let base = deserialize(&locator, Value::Table(table.clone()), None)?;
    validate(&base).map_err(|e| locator.error(&e.key, e.message, None))?;

    let Some(sweep) = &base.sweep else {
        return Ok(Resolved {
            path: path.to_path_buf(),
            points: vec![base.clone()],
            base,
            plan: Plan::single(),
        });
    };
    let plan = sweep::expand(sweep).map_err(|e| locator.error(&e.key, e.message, None))?;
    table.remove("sweep");
    check_sweep_keys(&locator, &base, &plan)?;
    let mut points = Vec::with_capacity(plan.len());
    for i in 0..plan.len() {
        let mut t = table.clone();
        for (key, v) in plan.params(i) {
            set_path(&mut t, &key, number(v)).map_err(|m| locator.error(&key, m, None))?;
        }
        let context = PointContext {
            index: i,
            params: plan.params(i),
        };
        let config = deserialize(&locator, Value::Table(t), Some(&context))?;
        validate(&config).map_err(|e| locator.error(&e.key, e.message, Some(&context)))?;
        points.push(config);
    }
    Ok(Resolved {
        path: path.to_path_buf(),
        base,
        plan,
        points,
    })
}

/// Which sweep point an error belongs to.
struct PointContext {
    index: usize,
    params: Vec<(String, f64)>,
}

impl PointContext {
    fn describe(&self) -> String {
        let values: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!("at sweep point {} ({})", self.index, values.join(", "))
    }
}

/// Finds where a key sits in the file.
struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
    doc: Spanned<DeTable<'a>>,
    overridden: Vec<String>,
}

impl Locator<'_> {
    fn error(&self, key: &str, message: String, point: Option<&PointContext>) -> Error {
        let (key, message) = match point {
            // A value that is bad only at some sweep point: point at the sweep axis
            // that set it.
            Some(p) => {
                let axis = p
                    .params
                    .iter()
                    .position(|(k, _)| k == key || key.starts_with(&format!("{k}.")));
                let located = axis.map_or_else(|| key.to_string(), |a| format!("sweep.axes[{a}]"));
                (located, format!("{}: {key}: {message}", p.describe()))
            }
            None => (key.to_string(), message),
        };
        let origin = self
            .overridden
            .iter()
            .any(|o| {
                o == &key || key.starts_with(&format!("{o}.")) || o.starts_with(&format!("{key}."))
            })
            .then(|| "set with --set".to_string());
        let line_col = if origin.is_some() {
            None
        } else {
            self.span_of(&key).map(|s| line_col(self.text, s))
        };
        ConfigError {
            file: self.file.to_path_buf(),
            key: Some(key),
            line_col,
            origin,
            message,
        }
        .into()
    }

    /// Byte offset of the deepest part of `key` (e.g. `sweep.axes[1].key`) found in the file.
    fn span_of(&self, key: &str) -> Option<usize> {
        let mut table: &DeTable = self.doc.get_ref();
        let mut value: Option<&Spanned<DeValue>> = None;
        let mut found = None;
        for segment in key_segments(key) {
            match segment {
                Segment::Key(k) => {
                    let current = match value {
                        None => table,
                        Some(v) => match v.get_ref() {
                            DeValue::Table(t) => t,
                            _ => return found,
                        },
                    };
                    table = current;
                    let Some((k_span, v)) =
                        table.iter().find(|(name, _)| name.get_ref().as_ref() == k)
                    else {
                        return found;
                    };
                    found = Some(k_span.span().start);
                    value = Some(v);
                }
                Segment::Index(i) => {
                    let Some(item) = value.and_then(|v| v.get_ref().as_array()?.get(i)) else {
                        return found;
                    };
                    found = Some(item.span().start);
                    value = Some(item);
                }
            }
        }
        found
    }
}

enum Segment<'k> {
    Key(&'k str),
    Index(usize),
}

/// `sweep.axes[1].key` → Key(sweep), Key(axes), Index(1), Key(key).
fn key_segments(key: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            out.push(Segment::Key(name));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

/// 1-based line and column (in characters) of byte offset `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Deserialize a config, turning serde's message into one that names the key.
fn deserialize(locator: &Locator, value: Value, point: Option<&PointContext>) -> Result<Config> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut key = e.path().to_string();
        let inner = e.inner().message().to_string();
        // For an unknown or a missing key, point at the key itself rather than its table.
        if let Some(name) = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|p| inner.strip_prefix(p))
            .and_then(|r| r.split('`').next())
            && key != name
            && !key.ends_with(&format!(".{name}"))
        {
            key = if key == "." || key.is_empty() {
                name.to_string()
            } else {
                format!("{key}.{name}")
            };
        }
        if key == "." {
            key.clear();
        }
        let message = friendly(&inner);
        if key.is_empty() {
            Error::from(ConfigError {
                file: locator.file.to_path_buf(),
                key: None,
                line_col: None,
                origin: None,
                message,
            })
        } else {
            locator.error(&key, message, point)
        }
    })
}

/// serde's type names in words a user of the config knows.
fn friendly(message: &str) -> String {
    let m = message
        .replace("expected f64", "expected a number")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected u32", "expected a whole number ≥ 0");
    if m.starts_with("unknown field") {
        format!("unknown key: {}", m.trim_start_matches("unknown field "))
    } else if m.starts_with("missing field") {
        format!("missing key {}", m.trim_start_matches("missing field "))
    } else {
        m
    }
}

/// Apply one `key.path=value` override; the value is read as a TOML value, and a bare
/// word that is not one is taken as a string.
fn apply_override(table: &mut Table, spec: &str) -> Result<()> {
    let Some((key, raw)) = spec.split_once('=') else {
        return Err(Error::Usage(format!(
            "--set {spec}: expected key.path=value, e.g. --set film.thickness_nm=150"
        )));
    };
    let (key, raw) = (key.trim(), raw.trim());
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(Error::Usage(format!(
            "--set {spec}: `{key}` is not a key path; expected e.g. film.thickness_nm"
        )));
    }
    let value = format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    set_path(table, key, value).map_err(|m| Error::Usage(format!("--set {spec}: {m}")))
}

/// Set `key` (dotted) in `table`, creating intermediate tables.
fn set_path(table: &mut Table, key: &str, value: Value) -> std::result::Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().ok_or_else(|| "empty key".to_string())?;
    let mut t = table;
    for (depth, p) in parents.iter().enumerate() {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is a value, not a table", parts[..=depth].join(".")))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// A swept value as TOML: integral values become integers so that integer keys
/// (`source.photons`, `run.seed`) can be swept too; float keys accept them.
fn number(v: f64) -> Value {
    /// Largest integer an f64 holds exactly (2⁵³).
    const EXACT_INT: f64 = 9_007_199_254_740_992.0;
    if v.fract() == 0.0 && v.abs() <= EXACT_INT {
        Value::Integer(v as i64)
    } else {
        Value::Float(v)
    }
}

/// Every swept key must name an existing numeric key of the config.
fn check_sweep_keys(locator: &Locator, base: &Config, plan: &Plan) -> Result<()> {
    let mut resolved = base.clone();
    resolved.sweep = None;
    let value = Value::try_from(&resolved)
        .map_err(|e| Error::Runtime(format!("cannot represent the config: {e}")))?;
    let mut numeric = Vec::new();
    numeric_keys(&value, "", &mut numeric);
    for (i, key) in plan.keys.iter().enumerate() {
        let found = key
            .split('.')
            .try_fold(&value, |v, part| v.as_table().and_then(|t| t.get(part)));
        let problem = match found {
            Some(Value::Float(_) | Value::Integer(_)) => continue,
            Some(_) => format!("`{key}` is not a numeric key, so it cannot be swept"),
            None => format!("`{key}` is not a key of the config"),
        };
        return Err(locator.error(
            &format!("sweep.axes[{i}]"),
            format!("{problem}; numeric keys are: {}", numeric.join(", ")),
            None,
        ));
    }
    Ok(())
}

fn numeric_keys(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Table(t) = v {
        for (k, child) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match child {
                Value::Float(_) | Value::Integer(_) => out.push(key),
                Value::Table(_) => numeric_keys(child, &key, out),
                _ => {}
            }
        }
    }
}
