//! Unpacking a fetched archive into the sandbox (tar, tar.gz, tar.bz2, tar.xz, zip, gz),
//! without ever writing outside it.
//!
//! Every entry is checked before anything is written for it: its name must be relative with
//! no `..` (zip-slip), its parent directory must resolve (symlinks followed) inside the
//! sandbox, a symlink entry must point inside (relative, its leading `..`s not climbing
//! above the sandbox from where it really sits, no `..` after a name since that name could
//! be a symlink itself), and a hard link must name a file already inside. An entry that
//! breaks a rule stops the extraction with an error naming the entry. Device and FIFO
//! entries are skipped.
//!
//! Invariant: by induction over the entries, every symlink this module creates points
//! inside the sandbox, so following any of them never leaves it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::plan::{sandbox_relative, Archive};

/// Unpacks `archive` (of kind `kind`, delivered to the sandbox as `output`) into `root`,
/// the sandbox's canonical path.
pub fn extract(
    archive: &Path,
    kind: Archive,
    output: &Path,
    root: &Path,
    cancel: &AtomicBool,
) -> Result<(), String> {
    let open = || {
        File::open(archive)
            .map(BufReader::new)
            .map_err(|e| format!("cannot open {}: {e}", archive.display()))
    };
    let sandbox = Sandbox { root, cancel };
    match kind {
        Archive::Tar => sandbox.untar(open()?),
        Archive::TarGz => sandbox.untar(flate2::read::MultiGzDecoder::new(open()?)),
        Archive::TarBz2 => sandbox.untar(bzip2::read::MultiBzDecoder::new(open()?)),
        Archive::TarXz => sandbox.untar(xz2::read::XzDecoder::new_multi_decoder(open()?)),
        Archive::Zip => sandbox.unzip(archive),
        Archive::Gz => sandbox.gunzip(output, open()?),
    }
}

struct Sandbox<'a> {
    root: &'a Path,
    cancel: &'a AtomicBool,
}

fn refused(entry: &str, why: impl std::fmt::Display) -> String {
    format!("archive entry '{entry}' refused: {why}")
}

impl Sandbox<'_> {
    fn check_cancel(&self) -> Result<(), String> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err("the fetch was cancelled (the task was killed or the agent stops)".into());
        }
        Ok(())
    }

    /// The entry's destination, after its name and its (created) parent are checked.
    fn destination(&self, entry: &str) -> Result<PathBuf, String> {
        let rel = sandbox_relative(entry).map_err(|e| refused(entry, e))?;
        let dest = self.root.join(&rel);
        let parent = dest.parent().unwrap_or(self.root);
        self.inside_dir(entry, parent)?;
        Ok(dest)
    }

    /// Creates `dir` (if missing) and checks it really lies inside the sandbox.
    fn inside_dir(&self, entry: &str, dir: &Path) -> Result<PathBuf, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| refused(entry, format!("cannot create {}: {e}", dir.display())))?;
        let real = dir
            .canonicalize()
            .map_err(|e| refused(entry, format!("cannot resolve {}: {e}", dir.display())))?;
        if !real.starts_with(self.root) {
            return Err(refused(
                entry,
                format!(
                    "its directory resolves to {} outside the sandbox",
                    real.display()
                ),
            ));
        }
        Ok(real)
    }

    /// Removes a symlink (or file) at `dest` so the next write cannot follow it.
    fn clear(&self, entry: &str, dest: &Path) -> Result<(), String> {
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => Err(refused(entry, "a directory of that name exists")),
            Ok(_) => std::fs::remove_file(dest)
                .map_err(|e| refused(entry, format!("cannot replace it: {e}"))),
            Err(_) => Ok(()),
        }
    }

    fn directory(&self, entry: &str) -> Result<(), String> {
        let rel = sandbox_relative(entry).map_err(|e| refused(entry, e))?;
        self.inside_dir(entry, &self.root.join(rel)).map(|_| ())
    }

    fn symlink(&self, entry: &str, target: &Path) -> Result<(), String> {
        let dest = self.destination(entry)?;
        let parent = dest
            .parent()
            .unwrap_or(self.root)
            .canonicalize()
            .map_err(|e| refused(entry, format!("cannot resolve its directory: {e}")))?;
        let mut depth = parent
            .strip_prefix(self.root)
            .map_err(|_| refused(entry, "its directory is outside the sandbox"))?
            .components()
            .count();
        let mut named = false;
        for component in target.components() {
            match component {
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refused(
                        entry,
                        format!("symlink to the absolute path '{}'", target.display()),
                    ))
                }
                Component::CurDir => {}
                Component::ParentDir if named => {
                    return Err(refused(
                        entry,
                        format!(
                            "symlink target '{}' has '..' after a name",
                            target.display()
                        ),
                    ))
                }
                Component::ParentDir if depth == 0 => {
                    return Err(refused(
                        entry,
                        format!(
                            "symlink to '{}' points out of the sandbox",
                            target.display()
                        ),
                    ))
                }
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => named = true,
            }
        }
        self.clear(entry, &dest)?;
        std::os::unix::fs::symlink(target, &dest)
            .map_err(|e| refused(entry, format!("cannot create the symlink: {e}")))
    }

    fn hard_link(&self, entry: &str, target: &str) -> Result<(), String> {
        let dest = self.destination(entry)?;
        let rel = sandbox_relative(target)
            .map_err(|e| refused(entry, format!("hard link target: {e}")))?;
        let source = self
            .root
            .join(rel)
            .canonicalize()
            .map_err(|e| refused(entry, format!("hard link target '{target}': {e}")))?;
        if !source.starts_with(self.root) {
            return Err(refused(
                entry,
                format!("hard link to '{target}' points out of the sandbox"),
            ));
        }
        self.clear(entry, &dest)?;
        std::fs::hard_link(&source, &dest)
            .map_err(|e| refused(entry, format!("cannot create the hard link: {e}")))
    }

    fn untar(&self, reader: impl Read) -> Result<(), String> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| format!("not a tar archive: {e}"))?;
        for entry in entries {
            self.check_cancel()?;
            let mut entry = entry.map_err(|e| format!("damaged tar archive: {e}"))?;
            let name = entry
                .path()
                .map_err(|e| format!("tar entry with a bad name: {e}"))?
                .to_string_lossy()
                .into_owned();
            let kind = entry.header().entry_type();
            let link = || -> Result<PathBuf, String> {
                entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|l| l.into_owned())
                    .ok_or_else(|| refused(&name, "a link without a target"))
            };
            match kind {
                tar::EntryType::Directory => self.directory(&name)?,
                tar::EntryType::Symlink => {
                    let target = link()?;
                    self.symlink(&name, &target)?
                }
                tar::EntryType::Link => {
                    let target = link()?;
                    self.hard_link(&name, &target.to_string_lossy())?
                }
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::GNUSparse => {
                    let dest = self.destination(&name)?;
                    self.clear(&name, &dest)?;
                    entry
                        .unpack(&dest)
                        .map_err(|e| refused(&name, format!("cannot write it: {e}")))?;
                }
                // Devices, FIFOs and metadata records are not sandbox content.
                _ => {}
            }
        }
        Ok(())
    }

    fn unzip(&self, path: &Path) -> Result<(), String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut archive =
            zip::ZipArchive::new(file).map_err(|e| format!("not a zip archive: {e}"))?;
        for i in 0..archive.len() {
            self.check_cancel()?;
            let mut file = archive
                .by_index(i)
                .map_err(|e| format!("damaged zip archive (entry {i}): {e}"))?;
            let name = file.name().to_string();
            if file.is_dir() {
                self.directory(&name)?;
            } else if file.is_symlink() {
                let mut target = String::new();
                file.read_to_string(&mut target)
                    .map_err(|e| refused(&name, format!("cannot read the symlink: {e}")))?;
                self.symlink(&name, Path::new(&target))?;
            } else {
                let dest = self.destination(&name)?;
                self.clear(&name, &dest)?;
                let mut out = File::create(&dest)
                    .map_err(|e| refused(&name, format!("cannot create it: {e}")))?;
                std::io::copy(&mut file, &mut out)
                    .map_err(|e| refused(&name, format!("cannot write it: {e}")))?;
                if let Some(mode) = file.unix_mode() {
                    use std::os::unix::fs::PermissionsExt;
                    let perms = std::fs::Permissions::from_mode(mode & 0o777);
                    std::fs::set_permissions(&dest, perms)
                        .map_err(|e| refused(&name, format!("cannot set its mode: {e}")))?;
                }
            }
        }
        Ok(())
    }

    /// `x.gz` becomes `x` in the sandbox's top directory (Mesos's `gunzip -d -c`); `path`
    /// is the name the archive has in the sandbox.
    fn gunzip(&self, path: &Path, reader: impl Read) -> Result<(), String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.strip_suffix(".gz").unwrap_or(&name);
        let dest = self.destination(stem)?;
        self.clear(stem, &dest)?;
        let mut out =
            File::create(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let mut decoder = flate2::read::MultiGzDecoder::new(reader);
        std::io::copy(&mut decoder, &mut out).map_err(|e| {
            let _ = std::fs::remove_file(&dest);
            format!("cannot gunzip {}: {e}", path.display())
        })?;
        Ok(())
    }
}
