//! The seed programmes as presets a moderator can run: each preset's example event file (`docs/examples/*.jsonl`)
//! ingested into a real forum with the real component gives the badges, nominations and access the preset's
//! comments promise (Legends with certification, phased advocacy, Insiders vetting a member with no posts).

use std::path::{Path, PathBuf};
use std::process::Command;

use cadre::Forum;
use cadre::runtime::{Limits, Runtime};
use rusqlite::params;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_owned()
}

/// A forum running the bundled program under `preset`, with `docs/examples/<preset>.jsonl` ingested.
fn ingested(preset: &str) -> (tempfile::TempDir, Forum) {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre::bundled::PROGRAM_WASM, "system", 0).unwrap();
    let settings = cadre_rules::presets::by_name(preset).unwrap();
    forum.configure(settings, "system", 0).unwrap();
    let file = repo_root().join(format!("docs/examples/{preset}.jsonl"));
    let report = cadre::ingest::ingest(&mut forum, &file).unwrap();
    assert_eq!(report.applied, report.lines, "{preset}: every line applies");
    let failed: i64 = forum.conn().query_row("SELECT COUNT(*) FROM dead_letters", [], |r| r.get(0)).unwrap();
    assert_eq!(failed, 0, "{preset}: the program failed on no event");
    (dir, forum)
}

fn member(forum: &Forum, name: &str) -> i64 {
    forum.conn().query_row("SELECT id FROM members WHERE name = ?1", [name], |r| r.get(0)).unwrap()
}

fn strings(forum: &Forum, sql: &str, member: i64) -> Vec<String> {
    let mut statement = forum.conn().prepare(sql).unwrap();
    statement.query_map(params![member], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn badges(forum: &Forum, member: i64) -> Vec<String> {
    strings(forum, "SELECT badge FROM badges WHERE member_id = ?1 ORDER BY badge", member)
}

fn nominations(forum: &Forum, member: i64) -> Vec<String> {
    strings(forum, "SELECT tier FROM nominations WHERE member_id = ?1 AND status = 'pending' ORDER BY tier", member)
}

fn access(forum: &Forum, member: i64) -> Vec<String> {
    strings(forum, "SELECT tier FROM access WHERE member_id = ?1 ORDER BY tier", member)
}

#[test]
fn the_legends_example_nominates_the_certified_member_with_the_exam_in_the_evidence() {
    let (_dir, forum) = ingested("legends");
    let ada = member(&forum, "ada");
    assert_eq!(badges(&forum, ada), ["helper", "regular-attendee"]);
    assert_eq!(nominations(&forum, ada), ["certified"]);
    let evidence: String =
        forum.conn().query_row("SELECT evidence FROM nominations WHERE member_id = ?1", [ada], |r| r.get(0)).unwrap();
    assert!(evidence.contains("certification.passed 1 in the last 730 days (needs 1)"), "{evidence}");
}

#[test]
fn the_advocacy_example_opens_the_engaged_phase_and_nominates_an_advocate() {
    let (_dir, forum) = ingested("advocacy");
    let cora = member(&forum, "cora");
    assert_eq!(badges(&forum, cora), ["evangelist", "regular-attendee", "reviewer"]);
    assert_eq!(access(&forum, cora), ["engaged"]);
    assert_eq!(nominations(&forum, cora), ["advocate"]);
}

#[test]
fn the_insiders_example_nominates_a_customer_who_never_posted() {
    let (_dir, forum) = ingested("insiders");
    let erin = member(&forum, "erin");
    let posts: i64 = forum.conn().query_row("SELECT COUNT(*) FROM posts", [], |r| r.get(0)).unwrap();
    assert_eq!(posts, 0);
    assert_eq!(nominations(&forum, erin), ["insiders-customers"]);
}

#[test]
fn ingesting_an_example_twice_through_the_cli_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args(args)
            .env("CADRE_DB", &db)
            .env("CADRE_CACHE_DIR", dir.path().join("cache"))
            .current_dir(repo_root())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        stdout
    };
    run(&["plugin", "install"]);
    run(&["program", "apply", "plugin/presets/legends.toml"]);
    assert!(run(&["ingest", "docs/examples/legends.jsonl"]).contains("23 line(s), 23 applied"));
    assert!(run(&["ingest", "docs/examples/legends.jsonl"]).contains("0 applied, 23 already applied before"));
    let shown = run(&["member", "show", "ada"]);
    assert!(shown.contains("Certifications passed"), "{shown}");
}

#[test]
fn a_misspelt_or_oversize_external_line_refuses_the_file_naming_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre::bundled::PROGRAM_WASM, "system", 0).unwrap();
    let file = dir.path().join("bad.jsonl");
    let long = "x".repeat(300);
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n{}\n{}\n",
            r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-01T00:00:00Z"}"#,
            r#"{"id":"e1","type":"external","member":"u1","kind":"Certification Passed","at":"2024-01-02T00:00:00Z"}"#,
            r#"{"id":"e2","type":"external","member":"u9","kind":"event.attended","at":"2024-01-02T00:00:00Z"}"#,
            format_args!(
                r#"{{"id":"e3","type":"external","member":"u1","kind":"event.attended","at":"2024-01-02T00:00:00Z","attributes":{{"title":"{long}","ratio":0.5}}}}"#
            ),
        ),
    )
    .unwrap();
    let error = cadre::ingest::ingest(&mut forum, &file).unwrap_err().to_string();
    assert!(error.contains("line 2: kind: \"Certification Passed\""), "{error}");
    assert!(error.contains("line 3: no member \"u9\""), "{error}");
    assert!(error.contains("line 4: attribute \"ratio\": 0.5 is not a string, a whole number or a boolean"), "{error}");
    assert!(error.contains("line 4: attributes[0]: \"title\" is 300 bytes long, at most 256"), "{error}");
    let events: i64 = forum.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(events, 0, "nothing from the file was applied");
}

#[test]
fn cadre_event_records_an_external_event_once_and_refuses_a_misspelt_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args(args)
            .env("CADRE_DB", &db)
            .env("CADRE_CACHE_DIR", dir.path().join("cache"))
            .current_dir(repo_root())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.code(), text)
    };
    assert_eq!(run(&["plugin", "install"]).0, Some(0));
    assert_eq!(run(&["program", "apply", "plugin/presets/legends.toml"]).0, Some(0));
    assert_eq!(run(&["ingest", "docs/examples/insiders.jsonl"]).0, Some(0), "registers erin");
    let args = [
        "event",
        "erin",
        "event.attended",
        "--attr",
        "event=Summit",
        "--attr",
        "day=2",
        "--source",
        "events",
        "--id",
        "summit-1",
    ];
    let (code, text) = run(&args);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("event.attended for erin (#1): applied, 1 effect(s)"), "{text}");
    let (code, text) = run(&args);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("was recorded before (same source and id): nothing done"), "{text}");
    let (_, ledger) = run(&["ledger", "erin"]);
    assert!(ledger.contains("external:event.attended") && ledger.contains("Events attended from events"), "{ledger}");
    let (code, text) = run(&["event", "erin", "Event.Attended"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("kind: \"Event.Attended\""), "{text}");
}

#[test]
fn ingest_counts_the_events_the_program_failed_on_points_to_the_dead_letters_and_exits_1() {
    // Regression (issue 14): `cadre ingest` printed "21 applied" and exited 0 while the plugin failed on 10 events.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args(args)
            .env("CADRE_DB", &db)
            .env("CADRE_CACHE_DIR", dir.path().join("cache"))
            .current_dir(repo_root())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.code(), text)
    };
    // The `panic` component panics on every like.
    let panics = crate::util::component_path("panic");
    assert_eq!(run(&["plugin", "install", panics.to_str().unwrap(), "--yes"]).0, Some(0));
    let file = dir.path().join("likes.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-01T00:00:00Z"}"#,
            r#"{"id":"u2","type":"member","name":"bob","joined":"2024-01-01T00:00:00Z"}"#,
            r#"{"id":"c1","type":"category","slug":"general","name":"General"}"#,
            r#"{"id":"q1","type":"question","author":"u1","category":"general","title":"T","at":"2024-01-02T00:00:00Z"}"#,
            r#"{"id":"l1","type":"like","liker":"u2","post":"q1","at":"2024-01-02T01:00:00Z"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let (code, text) = run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("5 line(s), 5 applied"), "{text}");
    assert!(text.contains("the program failed on 1 of the 5 event(s) applied; see: cadre deadletters list"), "{text}");
}
