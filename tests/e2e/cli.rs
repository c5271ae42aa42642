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
    assert!(stdout.contains("contract: cadre:forum@0.2.0"), "{stdout}");
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
    assert_eq!(value["contract"], "cadre:forum@0.2.0");
    assert_eq!(value["defaults"], "accepted");
    assert!(value["info"]["settings"].as_array().unwrap().iter().any(|s| s["path"] == "caps.likes-received-per-day"));
    // Badge levels are spelt as in the settings' TOML (`level = "bronze"`), not as Rust debug names.
    let levels: Vec<&str> =
        value["info"]["badges"].as_array().unwrap().iter().map(|b| b["level"].as_str().unwrap()).collect();
    assert!(!levels.is_empty() && levels.iter().all(|l| ["bronze", "silver", "gold"].contains(l)), "{levels:?}");
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
fn plugin_inspect_names_the_contract_version_a_0_1_0_component_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = component_path("counter-v0-1-0");
    let (code, stdout, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("contract: cadre:forum@0.1.0"), "{stdout}");
}

#[test]
fn plugin_inspect_refuses_another_contract_version_naming_the_one_it_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = component_path("wrong-version");
    let (code, _, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("cadre:forum/program@0.9.0"), "{stderr}");
    assert!(stderr.contains("this host speaks cadre:forum@0.1.0"), "{stderr}");
}

#[test]
fn plugin_inspect_refuses_a_component_whose_own_defaults_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = component_path("bad-defaults");
    let (code, stdout, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("BadDefaults 0.0.1"), "what it says about itself is still shown: {stdout}");
    assert!(
        stderr.contains("configure(\"\") refuses the program's own defaults: threshold: missing (it has no default)"),
        "{stderr}"
    );
}

#[test]
fn plugin_inspect_refuses_a_component_whose_defaults_declare_a_badge_describe_does_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let file = component_path("undescribed-badge");
    let (code, _, stderr) = cadre(&["plugin", "inspect", file.to_str().unwrap(), "--json"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("configure(\"\") declares [badge declared, badge undescribed, tier insiders]"), "{stderr}");
    assert!(stderr.contains("but describe lists [badge declared, tier insiders]; they must agree"), "{stderr}");
}

/// `cadre ARGS` in `dir`, with no database named anywhere: the default `./cadre.db` would be created in `dir`.
fn cadre_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .current_dir(dir)
        .env("CADRE_CACHE_DIR", dir.join("cache"))
        .env_remove("CADRE_DB")
        .env_remove("CADRE_CONFIG")
        .env_remove("CADRE_MODERATOR")
        .output()
        .expect("cadre runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

/// A settings file the bundled program refuses (line 2) and the hostile test components, which accept anything,
/// accept: which program checked it shows in the answer.
fn bad_settings(dir: &std::path::Path) -> String {
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[points]\nanswer-liked = \"lots\"\n").unwrap();
    path.to_str().unwrap().to_owned()
}

/// Issue 12: `program check` needed a database with an installed program, so nobody could check a settings file
/// before installing anything — and a check must never create a database as a side effect.
#[test]
fn program_check_without_a_database_checks_against_the_bundled_program_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/walkthrough/settings.toml");
    let (code, stdout, stderr) = cadre_in(dir.path(), &["program", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("settings.toml: valid (1 badges, 1 tiers)"), "{stdout}");
    assert!(stdout.contains("checked against the bundled program cadre-superuser 0.1.0"), "{stdout}");
    let bad = bad_settings(dir.path());
    let (code, _, stderr) = cadre_in(dir.path(), &["program", "check", &bad]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2: points.answer-liked: expected an integer"), "{stderr}");
    assert!(stderr.contains("checked against the bundled program cadre-superuser 0.1.0"), "{stderr}");
    let (code, stdout, stderr) = cadre_in(dir.path(), &["program", "check", &bad, "--json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.contains("points.answer-liked"), "{stdout}");
    assert!(stderr.contains("checked against the bundled program"), "{stderr}");
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".db"))
        .collect();
    assert!(created.is_empty(), "a check created {created:?}");
}

#[test]
fn program_check_uses_the_installed_program_when_there_is_one_and_plugin_names_another() {
    let dir = tempfile::tempdir().unwrap();
    let bad = bad_settings(dir.path());
    let hostile = component_path("panic");
    // `--plugin FILE` checks against that component, still without a database.
    let (code, stdout, stderr) =
        cadre_in(dir.path(), &["program", "check", &bad, "--plugin", hostile.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("checked against Panics 0.0.1 from ") && stdout.contains("panic.wasm"), "{stdout}");
    assert!(!dir.path().join("cadre.db").exists());
    // A database whose installed program accepts the file: the check is against it, not the bundled one.
    let (code, _, stderr) = cadre_in(dir.path(), &["plugin", "install", hostile.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = cadre_in(dir.path(), &["program", "check", &bad, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["checked_against"], "the installed program Panics 0.0.1");
    assert!(value["badges"].is_array(), "{stdout}");
}
