//! The durable file operations checkpoints are made of.
//!
//! - [`write_atomically`]: a temp file in the same directory (`.<name>.tmp`), written,
//!   fsynced, renamed over the target, then the directory fsynced. A reader sees the old
//!   file or the new one, never a mix, whatever the moment of a crash.
//! - [`append_durably`]: appends one record and fsyncs the file (and the directory when
//!   the file is new). A crash mid-append leaves a torn tail that the record decoder
//!   recognises; [`truncate_to`] cuts it off before the next append.
//! - [`point_symlink`]: a `latest` link replaced atomically the same way.
//!
//! Directories are created with [`ensure_dir`], which fsyncs the parent of each directory
//! it creates so the new entry survives a crash.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::CheckpointError;

fn io_err(path: &Path, what: &str, e: std::io::Error) -> CheckpointError {
    CheckpointError::new(path, format!("{what}: {e}"))
}

/// Fsyncs a directory, making its entries (renames, creations) durable.
pub fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, "fsync of the directory failed", e))
}

/// Creates `dir` and its missing ancestors, fsyncing the parent of each one created.
pub fn ensure_dir(dir: &Path) -> Result<(), CheckpointError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(io_err(dir, "cannot create the directory", e)),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

fn temp_path(path: &Path) -> Result<std::path::PathBuf, CheckpointError> {
    let name = path
        .file_name()
        .ok_or_else(|| CheckpointError::new(path, "a checkpoint path must name a file"))?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(".tmp");
    Ok(path.with_file_name(temp))
}

fn parent_of(path: &Path) -> Result<&Path, CheckpointError> {
    path.parent()
        .ok_or_else(|| CheckpointError::new(path, "a checkpoint path must have a directory"))
}

/// Replaces `path` with `bytes` atomically and durably.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let dir = parent_of(path)?;
    ensure_dir(dir)?;
    let temp = temp_path(path)?;
    let mut file = File::create(&temp).map_err(|e| io_err(&temp, "cannot create", e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_err(&temp, "cannot write", e))?;
    drop(file);
    std::fs::rename(&temp, path)
        .map_err(|e| io_err(path, "cannot rename the temp file over", e))?;
    sync_dir(dir)
}

/// Points the symlink `link` at `target` atomically and durably.
pub fn point_symlink(link: &Path, target: &str) -> Result<(), CheckpointError> {
    let dir = parent_of(link)?;
    ensure_dir(dir)?;
    let temp = temp_path(link)?;
    let _ = std::fs::remove_file(&temp);
    std::os::unix::fs::symlink(target, &temp)
        .map_err(|e| io_err(&temp, "cannot create the symlink", e))?;
    std::fs::rename(&temp, link).map_err(|e| io_err(link, "cannot rename the symlink over", e))?;
    sync_dir(dir)
}

/// Appends `bytes` to `path` (creating it) and fsyncs it before returning.
pub fn append_durably(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let dir = parent_of(path)?;
    let existed = path.exists();
    if !existed {
        ensure_dir(dir)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io_err(path, "cannot open for appending", e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| io_err(path, "cannot append", e))?;
    if !existed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Cuts `path` to its first `len` bytes (a torn tail after a crash) and fsyncs it.
pub fn truncate_to(path: &Path, len: u64) -> Result<(), CheckpointError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, "cannot open for truncation", e))?;
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_err(path, "cannot truncate", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/x.info");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.info")]);
    }

    #[test]
    fn append_then_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t/u");
        append_durably(&path, b"abc").unwrap();
        append_durably(&path, b"def").unwrap();
        truncate_to(&path, 4).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcd");
    }

    #[test]
    fn symlink_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("latest");
        point_symlink(&link, "a").unwrap();
        point_symlink(&link, "b").unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("b"));
    }

    #[test]
    fn a_write_into_a_file_where_a_directory_should_be_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"").unwrap();
        let err = write_atomically(&dir.path().join("f/x"), b"1").unwrap_err();
        assert!(err.to_string().contains("/f"), "{err}");
    }
}
