//! Rule packs: loading, hashing and compiling.
//!
//! A pack is a folder with a manifest (`pack.json`), Rhai scripts and JSON tables. The shipped
//! packs in `rules/` are embedded in the binary at build time; `--packs DIR` loads a folder of
//! packs instead. Every file of a pack enters its SHA-256 (see [`Pack::sha256`]), so an
//! assessment names exactly the rules that produced it.
//!
//! [`sandbox`] builds the Rhai engine every pack runs in; [`compiled`] turns a loaded pack into
//! the compiled form the evaluator shares across workers.

pub mod compiled;
pub mod manifest;
pub mod overlay;
pub mod sandbox;
pub mod schema;

use crate::error::PackError;
use include_dir::{include_dir, Dir};
pub use manifest::Manifest;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// Caps on what a pack folder may hold. Packs come from outside the binary: a folder holding a
/// disk image or a named pipe must fail with a message, not exhaust memory or block the run.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
pub const MAX_PACK_BYTES: u64 = 32 * 1024 * 1024;
pub const MAX_PACK_FILES: usize = 1_000;
pub const MAX_PACK_DEPTH: usize = 8;

/// One loaded pack: its manifest and every file, keyed by path relative to the pack folder.
#[derive(Debug, Clone)]
pub struct Pack {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
    /// Where the pack came from, for messages: `rules/nis2` or a folder on disk.
    pub origin: String,
}

impl Pack {
    /// Loads a pack from a folder on disk.
    pub fn from_dir(dir: &Path) -> Result<Pack, PackError> {
        let mut files = BTreeMap::new();
        collect_dir(dir, dir, &mut files)?;
        Pack::from_files(files, dir.display().to_string())
    }

    /// A pack from its files. The manifest is checked against `schemas/pack.schema.json` and its
    /// parameter values against their types before it is used.
    pub fn from_files(files: BTreeMap<String, Vec<u8>>, origin: String) -> Result<Pack, PackError> {
        let raw = files.get("pack.json").ok_or_else(|| PackError::Manifest {
            pack: origin.clone(),
            message: "the folder has no `pack.json`".into(),
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(raw).map_err(|e| PackError::Manifest {
                pack: origin.clone(),
                message: format!("`pack.json` line {}: {e}", e.line()),
            })?;
        let problems = schema::manifest_problems(&value);
        if !problems.is_empty() {
            let list: Vec<String> = problems
                .iter()
                .take(5)
                .map(|p| format!("{}: {}", p.subject(), p.message))
                .collect();
            return Err(PackError::Manifest {
                pack: origin,
                message: format!(
                    "`pack.json` does not follow schemas/pack.schema.json: {}{} (`assay pack \
                     check` lists every problem with its line)",
                    list.join("; "),
                    if problems.len() > 5 { "; …" } else { "" }
                ),
            });
        }
        let manifest: Manifest =
            serde_json::from_value(value).map_err(|e| PackError::Manifest {
                pack: origin.clone(),
                message: format!("`pack.json`: {e}"),
            })?;
        Ok(Pack {
            manifest,
            files,
            origin,
        })
    }

    /// SHA-256 over the pack's files in path order. Each file contributes its relative path, a
    /// zero byte, its length as 8 little-endian bytes and its contents, so that renaming or
    /// moving bytes between files changes the hash.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, bytes) in &self.files {
            hasher.update(path.as_bytes());
            hasher.update([0u8]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A file of the pack as UTF-8 text.
    pub fn text(&self, path: &str) -> Result<&str, PackError> {
        let bytes = self.files.get(path).ok_or_else(|| PackError::Manifest {
            pack: self.manifest.id.clone(),
            message: format!("`pack.json` names `{path}`, which is not in the pack"),
        })?;
        std::str::from_utf8(bytes).map_err(|_| PackError::Manifest {
            pack: self.manifest.id.clone(),
            message: format!("`{path}` is not UTF-8 text"),
        })
    }

    /// A table of the pack, parsed as JSON.
    pub fn table(&self, name: &str) -> Result<serde_json::Value, PackError> {
        let path = self
            .manifest
            .tables
            .get(name)
            .ok_or_else(|| PackError::Manifest {
                pack: self.manifest.id.clone(),
                message: format!("`pack.json` has no table `{name}` under \"tables\""),
            })?;
        serde_json::from_str(self.text(path)?).map_err(|e| PackError::Table {
            pack: self.manifest.id.clone(),
            file: path.clone(),
            line: e.line(),
            message: e.to_string(),
        })
    }
}

/// Every file of a pack folder, keyed by path relative to it, with the loader's checks.
pub fn read_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, PackError> {
    let mut files = BTreeMap::new();
    collect_dir(dir, dir, &mut files)?;
    Ok(files)
}

/// Reads every file of a pack folder. Symbolic links, pipes, sockets and devices are refused,
/// and so are files, folders and totals beyond the caps above, each with the reason.
fn collect_dir(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), PackError> {
    let mut total = 0u64;
    collect_dir_into(root, dir, 0, files, &mut total)
}

fn collect_dir_into(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut BTreeMap<String, Vec<u8>>,
    total: &mut u64,
) -> Result<(), PackError> {
    use std::io::Read;
    let refuse = |path: &Path, message: String| PackError::Io {
        path: path.display().to_string(),
        message,
    };
    let io = |path: &Path, e: std::io::Error| refuse(path, e.to_string());
    if depth > MAX_PACK_DEPTH {
        return Err(refuse(
            dir,
            format!("folders nest more than {MAX_PACK_DEPTH} deep in a pack; flatten them"),
        ));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        // symlink_metadata does not follow a link: a link out of the pack would put files into
        // it (and into its hash) that the pack folder does not hold.
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(refuse(
                &path,
                "is a symbolic link; a pack holds its own files: copy the file into the pack"
                    .into(),
            ));
        }
        if kind.is_dir() {
            collect_dir_into(root, &path, depth + 1, files, total)?;
            continue;
        }
        if !kind.is_file() {
            return Err(refuse(
                &path,
                "is not a regular file (a pipe, socket or device); remove it from the pack".into(),
            ));
        }
        if files.len() >= MAX_PACK_FILES {
            return Err(refuse(
                &path,
                format!("a pack holds at most {MAX_PACK_FILES} files"),
            ));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .map_err(|e| io(&path, e))?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io(&path, e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(refuse(
                &path,
                format!(
                    "is larger than {} MiB, the most one pack file may hold",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
        }
        *total += bytes.len() as u64;
        if *total > MAX_PACK_BYTES {
            return Err(refuse(
                &path,
                format!(
                    "the pack's files add up to more than {} MiB",
                    MAX_PACK_BYTES / (1024 * 1024)
                ),
            ));
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.insert(key, bytes);
    }
    Ok(())
}

fn collect_embedded(dir: &Dir<'static>, prefix: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        if let Ok(relative) = file.path().strip_prefix(prefix) {
            files.insert(
                relative.to_string_lossy().replace('\\', "/"),
                file.contents().to_vec(),
            );
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, prefix, files);
    }
}

/// The packs of one run, by id.
#[derive(Debug, Clone, Default)]
pub struct PackSet {
    pub packs: BTreeMap<String, Pack>,
}

impl PackSet {
    /// The packs shipped in `rules/`, embedded in the binary.
    pub fn shipped() -> Result<PackSet, PackError> {
        let mut set = PackSet::default();
        for dir in SHIPPED.dirs() {
            let is_pack = dir
                .files()
                .any(|f| f.path().file_name() == Some("pack.json".as_ref()));
            if !is_pack {
                continue;
            }
            let mut files = BTreeMap::new();
            collect_embedded(dir, dir.path(), &mut files);
            let origin = format!("rules/{}", dir.path().display());
            set.insert(Pack::from_files(files, origin)?)?;
        }
        Ok(set)
    }

    /// Every pack in a folder: either the folder is itself a pack, or each sub-folder with a
    /// `pack.json` is one.
    pub fn from_dir(dir: &Path) -> Result<PackSet, PackError> {
        let mut set = PackSet::default();
        if dir.join("pack.json").is_file() {
            set.insert(Pack::from_dir(dir)?)?;
            return Ok(set);
        }
        let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| PackError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.join("pack.json").is_file())
            .collect();
        subdirs.sort();
        for sub in subdirs {
            set.insert(Pack::from_dir(&sub)?)?;
        }
        Ok(set)
    }

    pub fn insert(&mut self, pack: Pack) -> Result<(), PackError> {
        let id = pack.manifest.id.clone();
        if let Some(other) = self.packs.get(&id) {
            return Err(PackError::Manifest {
                pack: id,
                message: format!(
                    "two packs have this id: {} and {}",
                    other.origin, pack.origin
                ),
            });
        }
        self.packs.insert(id, pack);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Pack> {
        self.packs.get(id)
    }
}
