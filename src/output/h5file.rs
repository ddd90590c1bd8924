//! Opening HDF5 files so that child processes do not inherit them.
//!
//! HDF5 locks the files it opens (`flock`), and the lock belongs to the open file,
//! shared by every process that holds a descriptor of it. HDF5 opens its files without
//! `O_CLOEXEC`, so a process started by another thread while a file is open keeps the
//! file, and its lock, for as long as it lives: a later writer of that file is then
//! refused ("unable to lock file"). Every file asemc opens is marked close-on-exec at
//! once, so a child drops it when it starts its program.

use std::path::Path;

use hdf5::file::FileDriver;

/// Open an existing file read-only.
pub fn open(path: &Path) -> hdf5::Result<hdf5::File> {
    keep_from_children(hdf5::File::open(path)?)
}

/// Open an existing file to read and write.
pub fn open_rw(path: &Path) -> hdf5::Result<hdf5::File> {
    keep_from_children(hdf5::File::open_rw(path)?)
}

/// Create a file, truncating one that exists.
pub fn create(path: &Path) -> hdf5::Result<hdf5::File> {
    keep_from_children(hdf5::File::create(path)?)
}

/// Mark the file's descriptor close-on-exec (files of the default, POSIX driver; other
/// drivers keep no single descriptor and are returned as they are).
fn keep_from_children(file: hdf5::File) -> hdf5::Result<hdf5::File> {
    if !matches!(file.access_plist()?.driver(), FileDriver::Sec2) {
        return Ok(file);
    }
    let fd = hdf5::sync::sync(|| {
        let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `file` is an open file of the sec2 driver, whose handle is a
        // pointer to its `int` descriptor, valid while the file stays open.
        let status = unsafe {
            hdf5_sys::h5f::H5Fget_vfd_handle(file.id(), hdf5_sys::h5p::H5P_DEFAULT, &mut handle)
        };
        (status >= 0 && !handle.is_null()).then(|| unsafe { *(handle as *const libc::c_int) })
    });
    let Some(fd) = fd else {
        return Err("no file descriptor for an open HDF5 file".into());
    };
    // SAFETY: plain fcntl calls on a descriptor the library holds open.
    let set = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) == 0
    };
    if !set {
        return Err(format!(
            "cannot mark an HDF5 file close-on-exec: {}",
            std::io::Error::last_os_error()
        )
        .into());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process started while a file is open does not keep its lock: the file can
    /// be opened for writing as soon as it is closed, the child still running. The
    /// child says when its program runs: a spawn returns once the child has begun to
    /// exec, and for a moment after that it still holds the descriptors it drops.
    #[test]
    fn a_child_process_does_not_keep_an_open_files_lock() {
        use std::io::BufRead;
        let dir = std::env::temp_dir().join(format!("asemc-h5file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("locked.h5");
        create(&path).unwrap().create_group("g").unwrap();
        let reader = open(&path).unwrap();
        let mut child = std::process::Command::new("sh")
            .args(["-c", "echo running; exec sleep 5"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "running");
        drop(reader);
        let rw = open_rw(&path);
        child.kill().ok();
        child.wait().ok();
        std::fs::remove_dir_all(&dir).ok();
        assert!(rw.is_ok(), "{:?}", rw.err());
    }
}
