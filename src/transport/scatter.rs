//! Henyey–Greenstein scattering: sampling the deflection and turning the direction
//! (Wang, Jacques & Zheng, MCML, Comput. Methods Programs Biomed. 47, 131 (1995), §3.5).

use crate::rng::Stream;

/// Directions within this of the z axis are turned with the on-axis formula.
const ON_AXIS: f64 = 1.0 - 1e-12;

/// Cosine of the deflection angle for anisotropy `g`, from a uniform `u` in (0, 1).
pub fn hg_cos_theta(g: f64, u: f64) -> f64 {
    if g == 0.0 {
        return 2.0 * u - 1.0;
    }
    let t = (1.0 - g * g) / (1.0 - g + 2.0 * g * u);
    ((1.0 + g * g - t * t) / (2.0 * g)).clamp(-1.0, 1.0)
}

/// Turn unit vector `dir` by polar angle θ (cos θ given) and azimuth φ = 2π·`u_phi`.
pub fn turn(dir: [f64; 3], cos_theta: f64, u_phi: f64) -> [f64; 3] {
    let sin_theta = (1.0 - cos_theta * cos_theta).max(0.0).sqrt();
    let phi = 2.0 * std::f64::consts::PI * u_phi;
    let (sin_phi, cos_phi) = phi.sin_cos();
    let [ux, uy, uz] = dir;
    if uz.abs() > ON_AXIS {
        return [
            sin_theta * cos_phi,
            sin_theta * sin_phi,
            cos_theta * uz.signum(),
        ];
    }
    let tmp = (1.0 - uz * uz).sqrt();
    [
        sin_theta * (ux * uz * cos_phi - uy * sin_phi) / tmp + ux * cos_theta,
        sin_theta * (uy * uz * cos_phi + ux * sin_phi) / tmp + uy * cos_theta,
        -sin_theta * cos_phi * tmp + uz * cos_theta,
    ]
}

/// The direction after a Henyey–Greenstein scattering event with anisotropy `g`.
pub fn scatter_hg(dir: [f64; 3], g: f64, rng: &mut Stream) -> [f64; 3] {
    let cos_theta = hg_cos_theta(g, rng.uniform());
    turn(dir, cos_theta, rng.uniform())
}

/// An isotropically distributed unit vector from two uniforms.
pub fn isotropic(u_cos: f64, u_phi: f64) -> [f64; 3] {
    let cos_theta = 2.0 * u_cos - 1.0;
    let sin_theta = (1.0 - cos_theta * cos_theta).max(0.0).sqrt();
    let (sin_phi, cos_phi) = (2.0 * std::f64::consts::PI * u_phi).sin_cos();
    [sin_theta * cos_phi, sin_theta * sin_phi, cos_theta]
}
