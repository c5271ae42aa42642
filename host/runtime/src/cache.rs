//! The compiled-artifact cache: a component is compiled once and its native artifact kept under its content
//! hash, so a second start loads it in about a millisecond instead of compiling it again.
//!
//! The key is the SHA-256 of the component's bytes plus a hash of the engine's compatibility settings
//! (wasmtime version, target, tunables): an artifact built by another wasmtime or configuration is never loaded.
//! Files are written to a temporary name and renamed, so a crash mid-write never leaves a truncated artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled now (and stored in the cache, if there is one).
    Compiled,
    /// Loaded from the cache.
    Cached,
}

/// The SHA-256 of some bytes, as lowercase hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ArtifactCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> ArtifactCache {
        ArtifactCache { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, engine: &Engine, hash: &str) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir.join(format!("{hash}-{:016x}.cwasm", hasher.finish()))
    }

    /// The component for `bytes`: from the cache if present, otherwise compiled and cached.
    pub fn load(&self, engine: &Engine, bytes: &[u8], hash: &str) -> wasmtime::Result<(Component, Origin)> {
        let path = self.path_for(engine, hash);
        if path.exists() {
            // SAFETY: the file was written by `precompile_component` of an engine with the same compatibility hash
            // (it is in the file name), into a directory only Cadre writes, and renamed into place atomically.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, Origin::Cached));
            }
            // A stale or damaged artifact: fall through and rebuild it.
        }
        let artifact = engine.precompile_component(bytes)?;
        std::fs::create_dir_all(&self.dir)?;
        let temporary = temporary_path(&path);
        std::fs::write(&temporary, &artifact)?;
        std::fs::rename(&temporary, &path)?;
        // SAFETY: as above; the bytes were produced by this engine a moment ago.
        let component = unsafe { Component::deserialize(engine, &artifact)? };
        Ok((component, Origin::Compiled))
    }
}

/// Where one write of an artifact goes before it is renamed into place: unique per write, not only per process. Two
/// threads of one process (a server's, parallel tests) may compile the same component at once, and a temporary named
/// by the process alone let one thread rename the other's file away ("No such file or directory", seen in CI).
fn temporary_path(path: &std::path::Path) -> std::path::PathBuf {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_extension(format!("tmp{}-{write}", std::process::id()))
}

#[cfg(test)]
mod temporary_tests {
    #[test]
    fn two_writes_of_one_artifact_in_one_process_never_share_a_temporary_file() {
        let path = std::path::Path::new("/cache/abc.cwasm");
        let (first, second) = (super::temporary_path(path), super::temporary_path(path));
        assert_ne!(first, second);
        assert_eq!(first.parent(), path.parent(), "beside the artifact, so the rename stays on one filesystem");
    }
}
