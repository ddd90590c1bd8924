//! The internal unit system, stated once.
//!
//! Configuration keys carry their unit in their name (`thickness_nm`, `length_um`,
//! `absorption_per_cm`, `time_max_ps`). Inside the engine every length is in
//! **centimetres**, every attenuation or gain coefficient in **cm⁻¹**, and every time in
//! **picoseconds**. The conversions below are the only place where those units meet.

/// Speed of light in vacuum, cm/ps (CODATA 2018: 299 792 458 m/s, exact).
pub const SPEED_OF_LIGHT_CM_PER_PS: f64 = 2.997_924_58e-2;

/// Centimetres per nanometre.
pub const CM_PER_NM: f64 = 1e-7;

/// Centimetres per micrometre.
pub const CM_PER_UM: f64 = 1e-4;

/// A length given in nm, in internal units (cm).
pub fn nm_to_cm(nm: f64) -> f64 {
    nm * CM_PER_NM
}

/// A length given in µm, in internal units (cm).
pub fn um_to_cm(um: f64) -> f64 {
    um * CM_PER_UM
}

/// hc in eV·nm (CODATA 2018, exact): photon energy in eV = HC_EV_NM / wavelength in nm.
pub const HC_EV_NM: f64 = 1_239.841_984;

/// Joules per electronvolt (CODATA 2018, exact).
pub const J_PER_EV: f64 = 1.602_176_634e-19;

/// Cubic centimetres per cubic nanometre.
pub const CM3_PER_NM3: f64 = 1e-21;

/// Picoseconds per femtosecond.
pub const PS_PER_FS: f64 = 1e-3;

/// Joules per microjoule.
pub const J_PER_UJ: f64 = 1e-6;
