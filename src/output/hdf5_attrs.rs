//! Small helpers for HDF5 attributes of the types asemc writes.

use hdf5::Location;
use hdf5::types::VarLenUnicode;

pub fn write_str(loc: &Location, name: &str, value: &str) -> hdf5::Result<()> {
    // NUL cannot be stored in an HDF5 string; no asemc string contains one.
    let v: VarLenUnicode = value
        .replace('\0', " ")
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

pub fn write_f64(loc: &Location, name: &str, value: f64) -> hdf5::Result<()> {
    loc.new_attr::<f64>()
        .shape(())
        .create(name)?
        .write_scalar(&value)
}

pub fn write_u64(loc: &Location, name: &str, value: u64) -> hdf5::Result<()> {
    loc.new_attr::<u64>()
        .shape(())
        .create(name)?
        .write_scalar(&value)
}

pub fn read_str(loc: &Location, name: &str) -> hdf5::Result<String> {
    Ok(loc
        .attr(name)?
        .read_scalar::<VarLenUnicode>()?
        .as_str()
        .to_string())
}
