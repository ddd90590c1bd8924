//! Expansion of a `[sweep]` block into the list of sweep points.
//!
//! Point order: with `combine = "product"` the first axis varies slowest, as in nested
//! loops written in the order of the axes; with `combine = "zip"` point i takes the
//! i-th value of every axis.

use super::schema::{Axis, Combine, Sweep};
use super::validate::Invalid;

/// The expanded sweep: the swept keys and, for each point, one value per key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub keys: Vec<String>,
    pub points: Vec<Vec<f64>>,
}

impl Plan {
    /// The plan of a config without a sweep: one point, no swept keys.
    pub fn single() -> Self {
        Self {
            keys: Vec::new(),
            points: vec![Vec::new()],
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// (key, value) pairs of point `i`.
    pub fn params(&self, i: usize) -> Vec<(String, f64)> {
        self.keys
            .iter()
            .cloned()
            .zip(self.points[i].iter().copied())
            .collect()
    }
}

/// Largest number of points one sweep may expand to.
pub const MAX_POINTS: usize = 1_000_000;

/// The values of one axis.
fn axis_values(i: usize, axis: &Axis) -> Result<Vec<f64>, Invalid> {
    let key = format!("sweep.axes[{i}]");
    let given = [
        axis.values.is_some(),
        axis.linspace.is_some(),
        axis.logspace.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(Invalid::new(
            &key,
            format!(
                "axis over `{}` needs exactly one of `values = [..]`, `linspace = [first, last, count]` \
                 or `logspace = [first, last, count]`",
                axis.key
            ),
        ));
    }
    // A count is checked before anything is allocated for it.
    let count = axis.linspace.or(axis.logspace).map(|(_, _, n)| n as usize);
    if let Some(n) = count.filter(|&n| n > MAX_POINTS) {
        return Err(Invalid::new(
            &key,
            format!(
                "the axis over `{}` asks for {n} values, more than a sweep's {MAX_POINTS} points; split it into several runs",
                axis.key
            ),
        ));
    }
    let values = if let Some(v) = &axis.values {
        v.clone()
    } else if let Some((a, b, n)) = axis.linspace {
        if !(a.is_finite() && b.is_finite()) {
            return Err(Invalid::new(&key, "linspace ends must be finite numbers"));
        }
        spaced(a, b, n, |x| x, |x| x)
    } else if let Some((a, b, n)) = axis.logspace {
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
            return Err(Invalid::new(
                &key,
                format!("logspace ends must be finite and > 0, got [{a}, {b}, {n}]"),
            ));
        }
        spaced(a, b, n, f64::ln, f64::exp)
    } else {
        unreachable!("exactly one form is present")
    };
    if values.is_empty() {
        return Err(Invalid::new(
            &key,
            format!(
                "the sweep over `{}` is empty: give at least one value",
                axis.key
            ),
        ));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(Invalid::new(&key, format!("{v} is not a finite number")));
    }
    Ok(values)
}

/// `n` points from `a` to `b` evenly spaced in `fwd(x)`, mapped back with `inv`; the
/// ends are exact.
fn spaced(a: f64, b: f64, n: u32, fwd: fn(f64) -> f64, inv: fn(f64) -> f64) -> Vec<f64> {
    let n = n as usize;
    match n {
        0 => Vec::new(),
        1 => vec![a],
        _ => (0..n)
            .map(|i| {
                if i == 0 {
                    a
                } else if i == n - 1 {
                    b
                } else {
                    let t = i as f64 / (n - 1) as f64;
                    inv(fwd(a) + t * (fwd(b) - fwd(a)))
                }
            })
            .collect(),
    }
}

/// Expand a sweep into its plan (keys are checked against the config by the loader).
pub fn expand(sweep: &Sweep) -> Result<Plan, Invalid> {
    if sweep.axes.is_empty() {
        return Err(Invalid::new(
            "sweep.axes",
            "the sweep is empty: add at least one [[sweep.axes]] with a key and its values, or remove [sweep]",
        ));
    }
    let mut keys: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    for (i, axis) in sweep.axes.iter().enumerate() {
        if keys.contains(&axis.key) {
            return Err(Invalid::new(
                &format!("sweep.axes[{i}]"),
                format!("`{}` is swept twice; sweep each key once", axis.key),
            ));
        }
        keys.push(axis.key.clone());
        columns.push(axis_values(i, axis)?);
    }
    let points = match sweep.combine {
        Combine::Zip => {
            let n = columns[0].len();
            if let Some((i, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != n) {
                return Err(Invalid::new(
                    &format!("sweep.axes[{i}]"),
                    format!(
                        "combine = \"zip\" needs axes of equal length: `{}` has {} values, `{}` has {n}",
                        keys[i],
                        c.len(),
                        keys[0]
                    ),
                ));
            }
            if n > MAX_POINTS {
                return Err(Invalid::new(
                    "sweep.axes",
                    format!(
                        "the zip sweep has {n} points, more than {MAX_POINTS}; split it into several runs"
                    ),
                ));
            }
            (0..n)
                .map(|p| columns.iter().map(|c| c[p]).collect())
                .collect()
        }
        Combine::Product => {
            let total = columns
                .iter()
                .try_fold(1usize, |acc, c| acc.checked_mul(c.len()))
                .filter(|t| *t <= MAX_POINTS);
            let Some(total) = total else {
                return Err(Invalid::new(
                    "sweep.axes",
                    format!(
                        "the product sweep has more than {MAX_POINTS} points; split it into several runs"
                    ),
                ));
            };
            (0..total)
                .map(|mut p| {
                    let mut v = vec![0.0; columns.len()];
                    for (j, c) in columns.iter().enumerate().rev() {
                        v[j] = c[p % c.len()];
                        p /= c.len();
                    }
                    v
                })
                .collect()
        }
    };
    Ok(Plan { keys, points })
}

/// One of `count` interleaved parts of a sweep: points `index`, `index + count`, … Each
/// point keeps the seed and random streams it has in the whole sweep, so merged shards
/// equal the unsharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether sweep point `point` belongs to this shard.
    pub fn holds(&self, point: usize) -> bool {
        point % self.count == self.index
    }

    /// How many of a sweep's `total` points this shard runs.
    pub fn len(&self, total: usize) -> usize {
        (total + self.count - 1 - self.index) / self.count
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N`: shard K (counted from 0) of N.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| {
            format!("expected K/N (shard K of N, K counted from 0), e.g. 0/4; got {s:?}")
        })?;
        let parse = |v: &str, what: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("{what} {v:?} is not a whole number ≥ 0"))
        };
        let (index, count) = (parse(k, "the shard index")?, parse(n, "the shard count")?);
        if count == 0 {
            return Err("the shard count N must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "the shard index {index} must be below the shard count {count} (0…{})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

/// "shard K/N" or "the whole sweep".
pub fn describe_shard(shard: Option<Shard>) -> String {
    shard.map_or("the whole sweep".into(), |s| format!("shard {s}"))
}
