//! The plugin-author kit as an author uses it, with the real `cadre` binary and real cargo builds: `cadre plugin
//! new demo`, its native `cargo test`, its wasm32-wasip2 build, `cadre plugin test` on it (and a panic's message
//! reaching the output); the `first-answer` example's native tests and its run through the host.
//!
//! The nested cargo builds share one target directory with the guests host/bundled/build.rs builds (`target/wasm`),
//! so the kit and its dependencies are compiled once, and run `--offline` (everything they need is already in
//! ~/.cargo after the workspace's own build).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::component_path;

/// `target/wasm`: where build.rs builds the guests (`…/wasm32-wasip2/release` is the components' directory).
fn guest_target_dir() -> PathBuf {
    Path::new(cadre::bundled::TEST_COMPONENTS_DIR).ancestors().nth(2).expect("target/wasm/<triple>/release").into()
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn cadre(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .current_dir(dir)
        .env("CADRE_CACHE_DIR", dir.join(".cadre/cache"))
        .env_remove("CADRE_DB")
        .output()
        .expect("cadre runs")
}

/// `cargo ARGS` in `dir`, offline, into the guests' target directory, with nothing of this test's own build
/// leaking in (its target, flags and jobs are for the host).
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).arg("--offline").current_dir(dir).env("CARGO_TARGET_DIR", guest_target_dir());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && !matches!(&*key, "CARGO_HOME" | "CARGO_BUILD_JOBS" | "CARGO_NET_OFFLINE")
            || key == "RUSTFLAGS"
        {
            command.env_remove(&*key);
        }
    }
    command.env("CARGO_TARGET_DIR", guest_target_dir());
    command.output().expect("cargo runs")
}

#[test]
fn plugin_new_writes_a_crate_that_tests_natively_builds_and_runs_in_the_host_and_a_panic_shows_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let made = cadre(dir.path(), &["plugin", "new", "demo"]);
    assert!(made.status.success(), "{}", text(&made));
    let demo = dir.path().join("demo");
    for file in [
        "Cargo.toml",
        ".gitignore",
        "rustfmt.toml",
        "README.md",
        "events.jsonl",
        "src/lib.rs",
        "tests/rules.rs",
        "tests/host.rs",
    ] {
        assert!(demo.join(file).exists(), "plugin new wrote {file}");
    }
    let manifest = std::fs::read_to_string(demo.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("cadre-pdk = { path = "), "the kit is its only Cadre dependency: {manifest}");
    assert!(!manifest.contains("host/") && !manifest.contains("guest-rt"), "{manifest}");
    assert!(manifest.contains("lto = true") && manifest.contains("opt-level = \"s\""), "{manifest}");
    let ignored = std::fs::read_to_string(demo.join(".gitignore")).unwrap();
    assert!(ignored.contains("/target/") && ignored.contains("/.cadre/"), "{ignored}");

    let built = cargo(&demo, &["build", "--release", "--target", "wasm32-wasip2"]);
    assert!(built.status.success(), "{}", text(&built));
    let component = guest_target_dir().join("wasm32-wasip2/release/demo.wasm");

    // Its own tests: the native rules and, with cadre named, the run through this host.
    let tested = cargo(&demo, &["test"]);
    assert!(tested.status.success(), "{}", text(&tested));
    let said = text(&tested);
    assert!(
        said.contains("a_first_accepted_answer_earns_the_badge_and_an_unaccept_takes_the_points_back ... ok"),
        "{said}"
    );
    let through_host = cargo_with_cadre(&demo);
    assert!(through_host.status.success(), "{}", text(&through_host));
    assert!(text(&through_host).contains("the_sample_events_give_the_points_and_badge_the_rules_promise ... ok"));

    let run = cadre(&demo, &["plugin", "test", component.to_str().unwrap(), "--events", "events.jsonl"]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.starts_with("demo 0.1.0: "), "{out}");
    assert!(out.contains("+1 point to bob (#2) [answer] answer"), "each event's effects are shown: {out}");
    assert!(out.contains("grant-badge accepted to bob (#2)"), "{out}");
    assert!(out.contains("log debug: member 1 answered their own question: nothing earned"), "the log: {out}");
    assert!(out.contains("bob (#2): 11 points; badges accepted"), "the standing after the file: {out}");

    // An author's mistake: a panic. Its message and place reach the output, and the command exits 1.
    let source = std::fs::read_to_string(demo.join("src/lib.rs")).unwrap();
    let broken = source.replacen(
        "fn on_answer_accepted(&self, store: &mut dyn Store, event: &Accept) -> Vec<Effect> {\n",
        "fn on_answer_accepted(&self, store: &mut dyn Store, event: &Accept) -> Vec<Effect> {\n        \
         if event.answer > 0 {\n            panic!(\"demo gave up on answer {}\", event.answer);\n        }\n",
        1,
    );
    assert_ne!(broken, source, "the template has the accept hook the test breaks");
    std::fs::write(demo.join("src/lib.rs"), broken).unwrap();
    let rebuilt = cargo(&demo, &["build", "--release", "--target", "wasm32-wasip2"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let run = cadre(&demo, &["plugin", "test", component.to_str().unwrap(), "--events", "events.jsonl"]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert!(out.contains("FAILED"), "{out}");
    assert!(out.contains("panicked at src/lib.rs:"), "the panic's place: {out}");
    assert!(out.contains("demo gave up on answer"), "the panic's message: {out}");
    assert!(out.contains("failed on 2 of 5 event(s)"), "the like of the answer waits behind it: {out}");
    assert_eq!(out.matches("log error: panicked").count(), 1, "the panic is logged once, by its event: {out}");
}

/// The demo's `cargo test` with `cadre` named, so tests/host.rs runs through this host (and must).
fn cargo_with_cadre(demo: &Path) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["test", "--offline", "--test", "host"]).current_dir(demo);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && !matches!(&*key, "CARGO_HOME" | "CARGO_BUILD_JOBS" | "CARGO_NET_OFFLINE")
            || key == "RUSTFLAGS"
        {
            command.env_remove(&*key);
        }
    }
    command
        .env("CARGO_TARGET_DIR", guest_target_dir())
        .env("CADRE", env!("CARGO_BIN_EXE_cadre"))
        .env("CADRE_REQUIRE_HOST_TEST", "1")
        .output()
        .expect("cargo runs")
}

#[test]
fn plugin_new_refuses_a_name_cargo_would_refuse_and_a_directory_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let bad = cadre(dir.path(), &["plugin", "new", "Demo Plugin"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("is not a plugin name"), "{}", text(&bad));
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let taken = cadre(dir.path(), &["plugin", "new", "taken"]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(text(&taken).contains("taken already exists: nothing was written"), "{}", text(&taken));
    let nowhere = cadre(dir.path(), &["plugin", "new", "elsewhere", "--pdk-path", dir.path().to_str().unwrap()]);
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(text(&nowhere).contains("does not hold cadre-pdk"), "{}", text(&nowhere));
}

#[test]
fn the_first_answer_example_passes_its_native_tests() {
    let tested = cargo(&repository().join("plugin/examples/first-answer"), &["test"]);
    let out = text(&tested);
    assert!(tested.status.success(), "{out}");
    assert!(
        out.contains("answers_earn_one_point_each_up_to_five_a_day_and_the_cap_resets_the_next_day ... ok"),
        "{out}"
    );
}

#[test]
fn the_first_answer_example_in_the_host_gives_first_answers_the_badge_and_caps_points_at_five_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let events = repository().join("plugin/examples/first-answer/events.jsonl");
    let component = component_path("first-answer");
    let args = ["plugin", "test", component.to_str().unwrap(), "--events", events.to_str().unwrap(), "--json"];
    let run = cadre(dir.path(), &args);
    assert!(run.status.success(), "{}", text(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let member = |name: &str| {
        report["members"].as_array().unwrap().iter().find(|m| m["member"].as_str().unwrap().starts_with(name)).cloned()
    };
    let bob = member("bob ").expect("bob has points");
    // Seven answers on one day: 5 points (the cap), then one the next day.
    assert_eq!(bob["points"], 6, "{bob}");
    assert_eq!(bob["badges"], serde_json::json!(["first-responder"]));
    let cy = member("cy ").expect("cy has a point");
    assert_eq!((cy["points"].as_i64(), cy["badges"].as_array().unwrap().len()), (Some(1), 0), "a second answer");
    assert!(member("ann ").is_none(), "answering one's own question earns nothing");
    let capped = report["events"].as_array().unwrap().iter().find(|e| e["id"] == "a6").unwrap();
    assert_eq!(capped["effects"][0], "+0 points to bob (#2) [answer] answer (post 13): daily cap of 5 reached");

    // A moderator's settings change the outcome; a misspelt one is refused with its line, exit 2.
    std::fs::write(dir.path().join("settings.toml"), "max-answer-points-per-day = 0\n").unwrap();
    let mut uncapped = args.to_vec();
    uncapped.extend(["--settings", "settings.toml"]);
    let run = cadre(dir.path(), &uncapped);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let bob = report["members"].as_array().unwrap().iter().find(|m| m["member"] == "bob (#2)").unwrap().clone();
    assert_eq!(bob["points"], 8, "no cap: {bob}");
    std::fs::write(dir.path().join("settings.toml"), "\nmax-answer-point-per-day = 9\n").unwrap();
    let run = cadre(dir.path(), &uncapped);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("line 2: max-answer-point-per-day: unknown setting"), "{}", text(&run));
}

#[test]
fn the_kit_packages_for_publishing_with_its_own_copy_of_the_contract() {
    let packaged = cargo(&repository().join("plugin/pdk"), &["package", "--allow-dirty"]);
    let out = text(&packaged);
    assert!(packaged.status.success(), "{out}");
    // The packaged crate is built from its own files alone: `cadre_pdk::WIT` includes wit/forum.wit.
    assert!(out.contains("Verifying cadre-pdk"), "{out}");
}
