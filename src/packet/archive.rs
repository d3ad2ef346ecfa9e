//! A packet on disk: a folder, written whole beside its final place and
//! then renamed into it (never half-written), or one zip with its entries
//! sorted, stored, and dated 1980-01-01 so that an unchanged packet zips to
//! the same bytes. Both read back into [`PacketFiles`] for `verify`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::PacketError;
use super::files::{PacketFiles, is_inside};
use super::manifest::MANIFEST;

/// The largest file `verify` reads from a packet (a packet's files are
/// text: a bigger one is not a packet's).
const MAX_FILE: u64 = 1 << 30;

/// Writes the folder `target` whole: into a sibling first, then renamed. An
/// existing folder is replaced only if it is a packet (holds a manifest).
pub fn write_dir(files: &PacketFiles, target: &Path) -> Result<(), PacketError> {
    if target.exists() && !target.join(MANIFEST).is_file() {
        return Err(PacketError::Occupied { path: target.display().to_string() });
    }
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| PacketError::io(parent, e))?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "packet".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| PacketError::io(&staging, e))?;
        }
        for (path, bytes) in &files.0 {
            let full = staging.join(path);
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).map_err(|e| PacketError::io(dir, e))?;
            }
            std::fs::write(&full, bytes).map_err(|e| PacketError::io(&full, e))?;
        }
        replace(&staging, target, &parent.join(format!(".{name}.old-{}", std::process::id())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Moves `staging` to `target`, the old packet aside first and removed after.
fn replace(staging: &Path, target: &Path, old: &Path) -> Result<(), PacketError> {
    let had_old = target.exists();
    if had_old {
        std::fs::rename(target, old).map_err(|e| PacketError::io(target, e))?;
    }
    if let Err(e) = std::fs::rename(staging, target) {
        if had_old {
            let _ = std::fs::rename(old, target);
        }
        return Err(PacketError::io(target, e));
    }
    if had_old {
        std::fs::remove_dir_all(old).map_err(|e| PacketError::io(old, e))?;
    }
    Ok(())
}

/// The packet as zip bytes: entries in path order, stored, fixed dates.
pub fn zip_bytes(files: &PacketFiles) -> Result<Vec<u8>, PacketError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let failed = |e: zip::result::ZipError| PacketError::Unreadable { what: format!("the zip being written: {e}") };
    for (path, bytes) in &files.0 {
        zip.start_file(path.as_str(), options).map_err(failed)?;
        zip.write_all(bytes).map_err(|e| PacketError::io(Path::new(path), e))?;
    }
    Ok(zip.finish().map_err(failed)?.into_inner())
}

/// Writes the zip `target` whole (a sibling file renamed into place).
pub fn write_zip(files: &PacketFiles, target: &Path) -> Result<(), PacketError> {
    let bytes = zip_bytes(files)?;
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| PacketError::io(parent, e))?;
    let staging = partial(target);
    std::fs::write(&staging, bytes).map_err(|e| PacketError::io(&staging, e))?;
    std::fs::rename(&staging, target).map_err(|e| {
        let _ = std::fs::remove_file(&staging);
        PacketError::io(target, e)
    })
}

fn partial(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// A packet read back from a folder or a zip.
pub fn read(path: &Path) -> Result<PacketFiles, PacketError> {
    let not_a_packet = |reason: String| PacketError::NotAPacket { path: path.display().to_string(), reason };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_a_packet("no such file or folder".to_string()),
        _ => PacketError::io(path, e),
    })?;
    if meta.is_dir() {
        let mut files = PacketFiles::default();
        read_dir(path, path, &mut files).map_err(|e| match e {
            PacketError::NotAPacket { reason, .. } => not_a_packet(reason),
            other => other,
        })?;
        return Ok(files);
    }
    let file = std::fs::File::open(path).map_err(|e| PacketError::io(path, e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| not_a_packet(format!("neither a folder nor a zip ({e})")))?;
    let mut files = PacketFiles::default();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| not_a_packet(format!("zip entry {i}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(|e| not_a_packet(format!("zip entry {i}: {e}")))?.to_string();
        if !is_inside(&name) {
            return Err(not_a_packet(format!("zip entry `{}` points outside the packet", crate::text::visible(&name))));
        }
        if entry.size() > MAX_FILE {
            return Err(not_a_packet(format!("zip entry `{name}` is larger than a packet's file can be")));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .by_ref()
            .take(MAX_FILE)
            .read_to_end(&mut bytes)
            .map_err(|e| not_a_packet(format!("zip entry `{name}`: {e}")))?;
        if files.0.insert(name.clone(), bytes).is_some() {
            return Err(not_a_packet(format!("zip entry `{name}` appears twice")));
        }
    }
    Ok(files)
}

fn read_dir(root: &Path, dir: &Path, files: &mut PacketFiles) -> Result<(), PacketError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| PacketError::io(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| PacketError::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| PacketError::io(&path, e))?;
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let name: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let name = name.join("/");
        if kind.is_symlink() {
            return Err(PacketError::NotAPacket {
                path: root.display().to_string(),
                reason: format!("`{}` is a symbolic link; a packet holds files only", crate::text::visible(&name)),
            });
        }
        if kind.is_dir() {
            read_dir(root, &path, files)?;
        } else {
            let size = entry.metadata().map_err(|e| PacketError::io(&path, e))?.len();
            if size > MAX_FILE {
                return Err(PacketError::NotAPacket {
                    path: root.display().to_string(),
                    reason: format!("`{name}` is larger than a packet's file can be"),
                });
            }
            let bytes = std::fs::read(&path).map_err(|e| PacketError::io(&path, e))?;
            files.add(name, bytes);
        }
    }
    Ok(())
}
