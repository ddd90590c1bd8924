//! What a backend returns for one sweep point: named scalar results with standard
//! errors and named arrays, each with its units. The output layer writes these without
//! knowing which backend or physics produced them.

/// A scalar result and its standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub name: String,
    pub value: f64,
    /// Standard error of a Monte Carlo estimate, if it is one.
    pub stderr: Option<f64>,
    pub units: String,
}

/// An n-dimensional array result, stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    pub units: String,
    /// Extra string attributes (e.g. what the rows of a 2-D array are).
    pub attributes: Vec<(String, String)>,
}

/// Everything one sweep point produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointResult {
    pub scalars: Vec<Scalar>,
    pub arrays: Vec<Array>,
    /// Photon packets launched.
    pub photons: u64,
    /// Packet interaction steps taken.
    pub photon_steps: u64,
    /// Wall-clock time of the point, s.
    pub wall_time_s: f64,
    /// What the log and the file should say of the point (limits met, checks failed).
    pub notes: Vec<String>,
}

/// The array of each replica's scalars (rows: replicas; its `columns` attribute names
/// the columns).
pub const REPLICA_RESULTS: &str = "replica_results";

impl PointResult {
    /// Each replica's value of the scalar `name` (empty when the point has no replicas'
    /// table or no such column).
    pub fn replica_values(&self, name: &str) -> Vec<f64> {
        let Some(table) = self.arrays.iter().find(|a| a.name == REPLICA_RESULTS) else {
            return Vec::new();
        };
        let columns = table
            .attributes
            .iter()
            .find(|(k, _)| k == "columns")
            .map_or("", |(_, v)| v.as_str());
        column(columns, &table.data, name)
    }
}

/// The column `name` of a row-major table whose comma-separated `columns` name its
/// columns.
pub fn column(columns: &str, data: &[f64], name: &str) -> Vec<f64> {
    let names: Vec<&str> = columns.split(',').collect();
    let Some(k) = names.iter().position(|c| *c == name) else {
        return Vec::new();
    };
    data.chunks(names.len()).map(|row| row[k]).collect()
}
