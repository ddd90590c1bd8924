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
}
