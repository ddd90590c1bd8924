// Optics shared by the transport kernels: a layer of the stack, Fresnel crossing of
// a plane, Henyey–Greenstein scattering. Single precision; mirrors
// src/transport/{geometry,fresnel,scatter}.rs.

const SPEED_OF_LIGHT_CM_PER_PS: f32 = 0.0299792458;
// Single-precision stand-ins for the thresholds of fresnel.rs and scatter.rs.
const NORMAL_COS: f32 = 0.999999;
const GRAZING_COS: f32 = 1e-9;
const ON_AXIS: f32 = 0.999999;
const TWO_PI: f32 = 6.283185307179586;

// Unpolarised Fresnel reflectance and the transmitted cosine (negative: total
// internal reflection), as fresnel::interface.
fn fresnel(n1: f32, n2: f32, cos_i: f32) -> vec2<f32> {
    if (n1 == n2) {
        return vec2<f32>(0.0, cos_i);
    }
    if (cos_i > NORMAL_COS) {
        let r = (n1 - n2) / (n1 + n2);
        return vec2<f32>(r * r, 1.0);
    }
    let sin_i = sqrt(max(1.0 - cos_i * cos_i, 0.0));
    let sin_t = n1 / n2 * sin_i;
    if (cos_i < GRAZING_COS || sin_t >= 1.0) {
        return vec2<f32>(1.0, -1.0);
    }
    let cos_t = sqrt(1.0 - sin_t * sin_t);
    let rs = (n1 * cos_i - n2 * cos_t) / (n1 * cos_i + n2 * cos_t);
    let rp = (n2 * cos_i - n1 * cos_t) / (n2 * cos_i + n1 * cos_t);
    return vec2<f32>(0.5 * (rs * rs + rp * rp), cos_t);
}

// A new direction at polar cosine `cos_theta` from `dir` (scatter::turn).
fn turn(dir: vec3<f32>, cos_theta: f32, u_phi: f32) -> vec3<f32> {
    let sin_theta = sqrt(max(1.0 - cos_theta * cos_theta, 0.0));
    let phi = TWO_PI * u_phi;
    let sin_phi = sin(phi);
    let cos_phi = cos(phi);
    if (abs(dir.z) > ON_AXIS) {
        return vec3<f32>(sin_theta * cos_phi, sin_theta * sin_phi, cos_theta * sign(dir.z));
    }
    let tmp = sqrt(1.0 - dir.z * dir.z);
    let d = vec3<f32>(
        sin_theta * (dir.x * dir.z * cos_phi - dir.y * sin_phi) / tmp + dir.x * cos_theta,
        sin_theta * (dir.y * dir.z * cos_phi + dir.x * sin_phi) / tmp + dir.y * cos_theta,
        -sin_theta * cos_phi * tmp + dir.z * cos_theta,
    );
    return normalize(d);
}

fn hg_cos_theta(g: f32, u: f32) -> f32 {
    if (g == 0.0) {
        return 2.0 * u - 1.0;
    }
    let t = (1.0 - g * g) / (1.0 - g + 2.0 * g * u);
    return clamp((1.0 + g * g - t * t) / (2.0 * g), -1.0, 1.0);
}

