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
