//! What the fuzz checks share: one artifact cache for the bundled component (compiled once per process, then
//! loaded in a fraction of a millisecond), template forum databases made once and copied for each input, and a
//! snapshot of a database's every table to compare states before and after.
//!
//! Does not check anything itself.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cadre_core::Forum;
use cadre_runtime::{ArtifactCache, Limits, Runtime};

/// A process-wide scratch folder (kept until the process ends: the fuzzer runs for hours).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::Builder::new().prefix("cadre-fuzz-").tempdir().expect("a scratch folder")).path()
}

/// A runtime with the default limits and the process's artifact cache.
pub fn runtime() -> Runtime {
    Runtime::new(Limits::default(), Some(ArtifactCache::new(scratch().join("artifacts")))).expect("a runtime")
}

/// The text of a preset (`plugin/presets/NAME.toml`, through the rules crate).
pub fn preset(name: &str) -> &'static str {
    cadre_rules::presets::by_name(name).unwrap_or_else(|| panic!("no preset {name}"))
}

/// A forum database with the bundled program installed under `settings`, made once per process by `make` (which
/// may add members, categories, posts) and then copied to a fresh file for each input. Returns the copy's path.
pub fn fresh_forum(template: &'static str, settings: &str, make: fn(&mut Forum)) -> PathBuf {
    use std::sync::Mutex;
    static MADE: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let source = scratch().join(format!("{template}.template.db"));
    {
        let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
        if !made.contains(&template) {
            let mut forum = Forum::open(&source, runtime()).expect("a template forum");
            forum.install(cadre_bundled::PROGRAM_WASM, "fuzz", 0).expect("the bundled program installs");
            forum.configure(settings, "fuzz", 0).expect("the template's settings are valid");
            make(&mut forum);
            drop(forum);
            made.push(template);
        }
    }
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let copy = scratch().join(format!("{template}-{n}.db"));
    std::fs::copy(&source, &copy).expect("copying the template forum");
    copy
}

/// Remove a database file and its WAL companions.
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Every row of every table, as text: two snapshots are equal exactly when the database holds the same data.
pub fn snapshot(conn: &rusqlite::Connection) -> String {
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("listing tables");
    tables.retain(|t| !t.starts_with("sqlite_"));
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("== {table}\n"));
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid")).or_else(|_| {
            // WITHOUT ROWID tables: order by every column.
            conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1, 2"))
        });
        let statement = statement.as_mut().expect("reading a table");
        let columns = statement.column_count();
        let mut rows = statement.query([]).expect("reading a table");
        while let Some(row) = rows.next().expect("reading a row") {
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i).expect("a value");
                out.push_str(&format!("{value:?}\t"));
            }
            out.push('\n');
        }
    }
    out
}
