//! Fresnel reflection and refraction at a planar interface, for unpolarised light
//! (the average of the s and p reflectances; Born & Wolf §1.5).

/// Incidence cosines closer to 1 than this use the normal-incidence formula.
const NORMAL_COS: f64 = 1.0 - 1e-12;
/// Incidence cosines below this are treated as grazing: total reflection.
const GRAZING_COS: f64 = 1e-9;

/// Outcome of meeting an interface: the unpolarised reflectance and, unless the light
/// is totally internally reflected, the cosine of the refraction angle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interface {
    pub reflectance: f64,
    /// `None` under total internal reflection.
    pub cos_transmitted: Option<f64>,
}

/// Reflectance at normal incidence, ((n1 − n2)/(n1 + n2))².
pub fn normal_reflectance(n1: f64, n2: f64) -> f64 {
    let r = (n1 - n2) / (n1 + n2);
    r * r
}

/// Unpolarised Fresnel reflectance going from index `n1` into `n2` with incidence
/// cosine `cos_i` (0 < cos_i ≤ 1).
pub fn interface(n1: f64, n2: f64, cos_i: f64) -> Interface {
    if n1 == n2 {
        return Interface {
            reflectance: 0.0,
            cos_transmitted: Some(cos_i),
        };
    }
    if cos_i > NORMAL_COS {
        return Interface {
            reflectance: normal_reflectance(n1, n2),
            cos_transmitted: Some(1.0),
        };
    }
    let sin_i = (1.0 - cos_i * cos_i).max(0.0).sqrt();
    let sin_t = n1 / n2 * sin_i;
    if cos_i < GRAZING_COS || sin_t >= 1.0 {
        return Interface {
            reflectance: 1.0,
            cos_transmitted: None,
        };
    }
    let cos_t = (1.0 - sin_t * sin_t).sqrt();
    let rs = (n1 * cos_i - n2 * cos_t) / (n1 * cos_i + n2 * cos_t);
    let rp = (n2 * cos_i - n1 * cos_t) / (n2 * cos_i + n1 * cos_t);
    Interface {
        reflectance: 0.5 * (rs * rs + rp * rp),
        cos_transmitted: Some(cos_t),
    }
}
