//! The `cadre` binary, as a moderator runs it.

use std::process::Command;

use crate::util::component_path;

fn cadre(args: &[&str], cache: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("cadre runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

fn bundled_program_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("program.wasm");
    std::fs::write(&path, cadre::bundled::PROGRAM_WASM).unwrap();
    path
}

#[test]
fn plugin_inspect_prints_name_badges_and_settings_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = bundled_program_file(dir.path());
    let (code, stdout, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("cadre-superuser 0.1.0\n"), "{stdout}");
    assert!(stdout.contains("contract: cadre:forum@0.1.0"), "{stdout}");
    assert!(stdout.contains("caps.likes-received-per-day = 200"), "{stdout}");
}

#[test]
fn plugin_inspect_json_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let file = bundled_program_file(dir.path());
    let (code, stdout, _) = cadre(&["plugin", "inspect", file.to_str().unwrap(), "--json"], dir.path());
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["info"]["name"], "cadre-superuser");
    assert_eq!(value["contract"], "cadre:forum@0.1.0");
    assert!(value["info"]["settings"].as_array().unwrap().iter().any(|s| s["path"] == "caps.likes-received-per-day"));
    let (_, again, _) = cadre(&["plugin", "inspect", file.to_str().unwrap(), "--json"], dir.path());
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["artifact"], "cached", "the second run loads the cached artifact");
}

#[test]
fn plugin_inspect_refuses_a_non_component_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readme.wasm");
    std::fs::write(&file, "not wasm at all").unwrap();
    let (code, stdout, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("readme.wasm is not a WebAssembly component"), "{stderr}");
}

#[test]
fn plugin_inspect_refuses_another_contract_version_naming_the_one_it_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = component_path("wrong-version");
    let (code, _, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("cadre:forum/program@0.2.0"), "{stderr}");
    assert!(stderr.contains("this host speaks cadre:forum@0.1.0"), "{stderr}");
}
