//! Loading components: cache, refusals, contract version.

use cadre::runtime::{ArtifactCache, Limits, LoadError, Origin, Runtime};

use crate::util::{component_path, runtime};

#[test]
fn a_second_start_loads_the_cached_artifact_instead_of_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let first = Runtime::new(Limits::default(), Some(ArtifactCache::new(dir.path()))).unwrap();
    let (plugin, report) = first.load_bytes("program", cadre::bundled::PROGRAM_WASM).unwrap();
    assert_eq!(report.origin, Origin::Compiled);
    let hash = plugin.hash().to_owned();
    drop(first);

    let second = Runtime::new(Limits::default(), Some(ArtifactCache::new(dir.path()))).unwrap();
    let (plugin, report) = second.load_bytes("program", cadre::bundled::PROGRAM_WASM).unwrap();
    assert_eq!(report.origin, Origin::Cached);
    assert_eq!(plugin.hash(), hash);
    assert_eq!(plugin.info().name, "cadre-superuser");
    let artifacts: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(artifacts.len(), 1, "one artifact, named by content hash");
}

#[test]
fn a_damaged_cached_artifact_is_rebuilt_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ArtifactCache::new(dir.path());
    let runtime = Runtime::new(Limits::default(), Some(cache)).unwrap();
    runtime.load_bytes("program", cadre::bundled::PROGRAM_WASM).unwrap();
    let artifact = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&artifact, b"garbage").unwrap();
    let (_, report) = runtime.load_bytes("program", cadre::bundled::PROGRAM_WASM).unwrap();
    assert_eq!(report.origin, Origin::Compiled);
}

#[test]
fn a_file_that_is_not_wasm_is_refused_by_name() {
    let runtime = runtime(Limits::default());
    let error = runtime.load_bytes("notes.txt", b"hello, this is not wasm").err().unwrap();
    assert!(matches!(error, LoadError::NotAComponent { .. }), "{error}");
    assert!(error.to_string().starts_with("notes.txt is not a WebAssembly component"), "{error}");
}

#[test]
fn a_core_module_is_refused_with_advice_to_build_a_component() {
    let runtime = runtime(Limits::default());
    // The smallest core module: magic, version 1, layer 0.
    let error = runtime.load_bytes("core.wasm", b"\0asm\x01\0\0\0").err().unwrap();
    assert!(matches!(error, LoadError::NotAComponent { .. }), "{error}");
    assert!(error.to_string().contains("core WebAssembly module"), "{error}");
}

#[test]
fn a_component_for_another_contract_version_is_refused_naming_both_versions() {
    let runtime = runtime(Limits::default());
    let error = runtime.load_file(&component_path("wrong-version")).err().unwrap();
    let LoadError::ContractMismatch { found, host, .. } = &error else { panic!("{error}") };
    assert!(found.contains("cadre:forum/program@0.9.0"), "{found}");
    assert_eq!(*host, "cadre:forum@0.1.0 and cadre:forum@0.2.0");
    assert!(error.to_string().contains("this host speaks cadre:forum@0.1.0"), "{error}");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let runtime = runtime(Limits::default());
    let error = runtime.load_file(std::path::Path::new("/nonexistent/plugin.wasm")).err().unwrap();
    assert!(error.to_string().contains("/nonexistent/plugin.wasm"), "{error}");
}
