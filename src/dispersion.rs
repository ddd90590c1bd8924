//! How a layer's refractive index depends on the vacuum wavelength: a constant, a
//! Cauchy or a Sellmeier formula, or a named material. Each gives n(λ) and the group
//! index n − λ dn/dλ in closed form.

use std::str::FromStr;

/// Micrometres a nanometre.
const UM_PER_NM: f64 = 1e-3;

/// Fused silica at room temperature, 0.21–3.71 µm: I. H. Malitson, "Interspecimen
/// comparison of the refractive index of fused silica", J. Opt. Soc. Am. 55, 1205
/// (1965), n² − 1 = Σ Bᵢλ²/(λ² − Cᵢ) with these Bᵢ and Cᵢ = (0.0684043, 0.1162414,
/// 9.896161 µm)².
pub const FUSED_SILICA: Dispersion = Dispersion::Sellmeier {
    b: [0.696_166_3, 0.407_942_6, 0.897_479_4],
    c: [
        0.068_404_3 * 0.068_404_3,
        0.116_241_4 * 0.116_241_4,
        9.896_161 * 9.896_161,
    ],
};

/// A refractive index as a function of the vacuum wavelength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dispersion {
    /// The same index at every wavelength.
    Constant(f64),
    /// n = A + B/λ² + C/λ⁴, λ in µm (B in µm², C in µm⁴).
    Cauchy { a: f64, b: f64, c: f64 },
    /// n² = 1 + Σᵢ Bᵢλ²/(λ² − Cᵢ), λ in µm (Cᵢ in µm²).
    Sellmeier { b: [f64; 3], c: [f64; 3] },
}

impl Dispersion {
    /// n at vacuum wavelength `wavelength_nm`.
    pub fn index(&self, wavelength_nm: f64) -> f64 {
        let l2 = (wavelength_nm * UM_PER_NM).powi(2);
        match *self {
            Dispersion::Constant(n) => n,
            Dispersion::Cauchy { a, b, c } => a + b / l2 + c / (l2 * l2),
            Dispersion::Sellmeier { b, c } => {
                let sum: f64 = b.iter().zip(c).map(|(b, c)| b * l2 / (l2 - c)).sum();
                (1.0 + sum).sqrt()
            }
        }
    }

    /// The group index n − λ dn/dλ at `wavelength_nm`.
    pub fn group_index(&self, wavelength_nm: f64) -> f64 {
        let l2 = (wavelength_nm * UM_PER_NM).powi(2);
        let n = self.index(wavelength_nm);
        // λ dn/dλ = 2λ² dn/d(λ²).
        let l2_dn_dl2 = match *self {
            Dispersion::Constant(_) => 0.0,
            Dispersion::Cauchy { b, c, .. } => -b / l2 - 2.0 * c / (l2 * l2),
            Dispersion::Sellmeier { b, c } => {
                // d(n²)/d(λ²) = Σ −Bᵢ Cᵢ/(λ² − Cᵢ)², and dn = d(n²)/(2n).
                let dn2: f64 = b
                    .iter()
                    .zip(c)
                    .map(|(b, c)| -b * c / (l2 - c).powi(2))
                    .sum();
                l2 * dn2 / (2.0 * n)
            }
        };
        n - 2.0 * l2_dn_dl2
    }
}

/// What a dispersion given on the command line may be (a plain number is a constant
/// index).
pub const DISPERSION_FORMS: &str = "fused_silica (Malitson 1965), cauchy:A,B[,C] (n = A + B/λ² + C/λ⁴, λ in µm) or sellmeier:B1,B2,B3,C1,C2,C3 (n² = 1 + Σ Bᵢλ²/(λ² − Cᵢ), λ in µm, Cᵢ in µm²)";

impl FromStr for Dispersion {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("'{text}' is not an index or a dispersion: give a number, {DISPERSION_FORMS}")
        };
        if let Ok(n) = text.trim().parse::<f64>() {
            return Ok(Dispersion::Constant(n));
        }
        let (kind, numbers) = text.split_once(':').unwrap_or((text, ""));
        let values: Vec<f64> = if numbers.is_empty() {
            Vec::new()
        } else {
            numbers
                .split(',')
                .map(|v| v.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                .collect::<Option<_>>()
                .ok_or_else(bad)?
        };
        match (kind.trim(), values.as_slice()) {
            ("fused_silica", []) => Ok(FUSED_SILICA),
            ("cauchy", [a, b]) => Ok(Dispersion::Cauchy {
                a: *a,
                b: *b,
                c: 0.0,
            }),
            ("cauchy", [a, b, c]) => Ok(Dispersion::Cauchy {
                a: *a,
                b: *b,
                c: *c,
            }),
            ("sellmeier", [b1, b2, b3, c1, c2, c3]) => Ok(Dispersion::Sellmeier {
                b: [*b1, *b2, *b3],
                c: [*c1, *c2, *c3],
            }),
            _ => Err(bad()),
        }
    }
}
