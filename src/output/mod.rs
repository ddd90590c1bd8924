//! The HDF5 output file: writing runs point by point, reading them back.

mod fault;
pub mod h5file;
mod hdf5_attrs;
mod merge;
mod reader;
mod writer;

pub use merge::{Allow, MergeReport, merge};
pub use reader::{OutputReader, PointRecord};
pub use writer::{
    FORMAT, FORMAT_VERSION, OutputFile, RunMetadata, check_output_path, discard_partial,
    partial_path, point_name,
};
