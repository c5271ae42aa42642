//! The moderator's command line, run as a moderator would: the walkthrough in docs/walkthrough.md, ingest refusals,
//! exit codes, upgrades that change declarations, rollback — and exactly-once under `kill -9`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::component_path;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_owned()
}

/// `cadre ARGS` against the database `db`.
fn cadre(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .env("CADRE_DB", db)
        .env("CADRE_CACHE_DIR", db.with_extension("cache"))
        .env_remove("CADRE_MODERATOR")
        .current_dir(repo_root())
        .output()
        .expect("cadre runs")
}

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn the_walkthrough_page_works_when_pasted_into_a_shell() {
    let page = std::fs::read_to_string(repo_root().join("docs/walkthrough.md")).unwrap();
    let block = page.split("<!-- walkthrough -->").nth(1).unwrap().split("<!-- /walkthrough -->").next().unwrap();
    // The test builds the binary itself and points the database at a temporary directory.
    let script: String = block
        .lines()
        .filter(|line| !line.starts_with("```") && !line.starts_with("cargo build") && !line.starts_with("export "))
        .map(|line| format!("{line}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cadre")).parent().unwrap();
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
        .env("CADRE_DB", dir.path().join("walkthrough.db"))
        .env("CADRE_CACHE_DIR", dir.path().join("cache"))
        .current_dir(repo_root())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "the walkthrough failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("nomination #1 approved: access granted"), "{stdout}");
    assert!(stdout.contains("9 row(s); total 80"), "{stdout}");
    assert!(stdout.contains("tier insiders: APPROVED"), "{stdout}");
    assert!(stdout.contains("ada (#") && stdout.contains(") added to insiders (invited)"), "{stdout}");
}

#[test]
fn a_bad_line_refuses_the_whole_file_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    let file = dir.path().join("bad.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-01T00:00:00Z"}"#,
            "\n",
            r#"{"id":"c1","type":"category","slug":"general","name":"General"}"#,
            "\n",
            r#"{"id":"q1","type":"question","author":"u9","category":"general","title":"T","at":"2024-01-02T00:00:00Z"}"#,
            "\n",
            r#"{"id":"q2","type":"question","author":"u1","category":"general","title":"T","at":"yesterday"}"#,
            "\n"
        ),
    )
    .unwrap();
    let output = cadre(&db, &["ingest", file.to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 3: no member \"u9\""), "{stderr}");
    assert!(stderr.contains("line 4: `yesterday` is not an RFC 3339 time"), "{stderr}");
    let shown = cadre(&db, &["member", "show", "ada"]);
    assert_eq!(shown.status.code(), Some(3), "nothing from the file was applied, not even its good lines");
}

#[test]
fn member_show_and_the_ledger_explain_a_like_that_earned_nothing_with_a_0_point_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    let file = dir.path().join("self-like.jsonl");
    let lines = [
        r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-01T00:00:00Z"}"#,
        r#"{"id":"u2","type":"member","name":"bob","joined":"2024-01-01T00:00:00Z"}"#,
        r#"{"id":"c","type":"category","slug":"general","name":"General"}"#,
        r#"{"id":"q","type":"question","author":"u1","category":"general","title":"Q","at":"2024-02-01T10:00:00Z"}"#,
        r#"{"id":"a","type":"answer","author":"u2","question":"q","body":"A","at":"2024-02-01T11:00:00Z"}"#,
        r#"{"id":"v1","type":"like","liker":"u1","post":"a","at":"2024-02-01T12:00:00Z"}"#,
        r#"{"id":"v2","type":"like","liker":"u2","post":"a","at":"2024-02-01T13:00:00Z"}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    assert!(cadre(&db, &["ingest", file.to_str().unwrap()]).status.success());
    let (ledger, _) = text(&cadre(&db, &["ledger", "bob"]));
    assert!(ledger.contains("+0       10  answer-liked     like 2 on answer 2: self-like, not counted"), "{ledger}");
    assert!(ledger.contains("2 row(s); total 10"), "{ledger}");
    let (shown, _) = text(&cadre(&db, &["member", "show", "bob"]));
    assert!(shown.contains("points: 10"), "{shown}");
    assert!(shown.contains("ledger (the last 2 of 2 lines; all of them: cadre ledger bob)"), "{shown}");
    assert!(shown.contains("self-like, not counted"), "{shown}");
}

#[test]
fn exit_codes_tell_scripts_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    assert_eq!(cadre(&db, &["program", "show"]).status.code(), Some(3), "no program installed");
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    assert_eq!(cadre(&db, &["ledger", "nobody"]).status.code(), Some(3));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[points]\nanswer-liked = \"lots\"\n").unwrap();
    let output = cadre(&db, &["program", "apply", bad.to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("line 2: points.answer-liked: expected an integer"), "{stderr}");
    let output = cadre(&db, &["queue", "approve", "1", "--reason", "x"]);
    assert_eq!(output.status.code(), Some(2), "no moderator named: {}", text(&output).1);
}

#[test]
fn an_upgrade_that_changes_declared_badges_says_so_and_waits_for_yes_and_rollback_returns() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    let other = component_path("panic");
    let output = cadre(&db, &["plugin", "upgrade", other.to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("badges added: declared") && stderr.contains("badges removed: rising-star"), "{stderr}");
    assert!(text(&cadre(&db, &["plugin", "list"])).0.contains("active   #1   cadre-superuser"), "nothing changed");
    assert!(cadre(&db, &["plugin", "upgrade", other.to_str().unwrap(), "--yes"]).status.success());
    let (list, _) = text(&cadre(&db, &["plugin", "list"]));
    assert!(list.contains("active   #2   Panics 0.0.1") && list.contains("previous #1   cadre-superuser"), "{list}");
    let output = cadre(&db, &["plugin", "rollback"]);
    assert!(text(&output).0.contains("rolled back to cadre-superuser"), "{:?}", text(&output));
    let (list, _) = text(&cadre(&db, &["plugin", "list"]));
    assert!(list.contains("active   #1   cadre-superuser"), "{list}");
}

/// A community of `members` members and about `likes` likes with unlikes and accepts, as JSON Lines.
fn long_history(members: usize, likes: usize) -> String {
    let mut lines = Vec::new();
    for m in 0..members {
        lines.push(format!(r#"{{"id":"u{m}","type":"member","name":"m{m}","joined":"2024-01-01T00:00:00Z"}}"#));
    }
    lines.push(r#"{"id":"c","type":"category","slug":"general","name":"General"}"#.to_owned());
    let mut answers = Vec::new();
    for q in 0..likes / 20 {
        let day = 1 + q / 10;
        let at = |h: usize| format!("2024-02-{:02}T{:02}:{:02}:00Z", 1 + day % 27, h % 24, q % 60);
        lines.push(format!(
            r#"{{"id":"q{q}","type":"question","author":"u{}","category":"general","title":"Q{q}","at":"{}"}}"#,
            q % members,
            at(1)
        ));
        let answerer = (q * 7 + 3) % members;
        lines.push(format!(
            r#"{{"id":"a{q}","type":"answer","author":"u{answerer}","question":"q{q}","body":"A","at":"{}"}}"#,
            at(2)
        ));
        answers.push((q, answerer, at(3)));
    }
    let mut like = 0;
    for (q, answerer, at) in &answers {
        for k in 0..20 {
            let liker = (q * 13 + k * 3 + 1) % members;
            if liker == *answerer {
                continue;
            }
            lines.push(format!(r#"{{"id":"v{like}","type":"like","liker":"u{liker}","post":"a{q}","at":"{at}"}}"#));
            if like % 9 == 0 {
                lines.push(format!(r#"{{"id":"x{like}","type":"unlike","like":"v{like}","at":"{at}"}}"#));
            }
            like += 1;
        }
        if q % 3 == 0 {
            lines.push(format!(r#"{{"id":"acc{q}","type":"accept","answer":"a{q}","at":"{at}"}}"#));
        }
    }
    lines.join("\n") + "\n"
}

/// Everything the program's decisions produced, in a comparable form.
fn state(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT member_id || ':' || total FROM points ORDER BY member_id",
        "SELECT member_id || ':' || badge FROM badges ORDER BY 1",
        "SELECT member_id || ':' || tier || ':' || source FROM access ORDER BY 1",
        "SELECT member_id || ':' || tier || ':' || status FROM nominations ORDER BY 1",
        "SELECT event_id || ':' || member_id || ':' || delta || ':' || rule FROM ledger ORDER BY event_id, member_id, delta",
        "SELECT key || '=' || hex(value) FROM kv ORDER BY key",
        "SELECT COUNT(*) || ' events' FROM events",
        "SELECT COUNT(*) || ' likes' FROM likes",
    ] {
        let mut statement = conn.prepare(sql).unwrap();
        out.extend(statement.query_map([], |row| row.get::<_, String>(0)).unwrap().map(Result::unwrap));
    }
    out
}

/// 5,000 likes from 50 new members on the first 100 answers of [`long_history`], as JSON Lines.
fn more_likes() -> String {
    let mut lines = Vec::new();
    for j in 0..50 {
        lines.push(format!(r#"{{"id":"n{j}","type":"member","name":"n{j}","joined":"2024-01-01T00:00:00Z"}}"#));
    }
    for j in 0..50 {
        for q in 0..100 {
            let at = format!("2024-03-{:02}T{:02}:{:02}:00Z", 1 + j % 28, q % 24, j % 60);
            lines.push(format!(r#"{{"id":"w{j}.{q}","type":"like","liker":"n{j}","post":"a{q}","at":"{at}"}}"#));
        }
    }
    lines.join("\n") + "\n"
}

/// The program's bookkeeping: (delivered up to, last event, dead letters, store size as kept, store size counted).
fn bookkeeping(db: &Path) -> (i64, i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT (SELECT processed_up_to FROM program), (SELECT MAX(id) FROM events), \
                (SELECT COUNT(*) FROM dead_letters), (SELECT bytes FROM kv_size), \
                (SELECT COALESCE(SUM(length(key) + length(value)), 0) FROM kv)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
    )
    .unwrap()
}

fn ledger_rows(db: &Path) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row("SELECT COUNT(*) FROM ledger", [], |row| row.get(0)).unwrap()
}

/// Issue 12: `program apply` recomputed the log as it was when it started and then replaced ledgers and the
/// program's store with that, so the likes another process recorded meanwhile were logged and marked processed
/// but their points never reached the ledger, the totals or the store.
#[test]
fn likes_ingested_while_program_apply_recomputes_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (history, likes) = (dir.path().join("history.jsonl"), dir.path().join("likes.jsonl"));
    std::fs::write(&history, long_history(40, 8_000)).unwrap();
    std::fs::write(&likes, more_likes()).unwrap();
    // New settings that change what accepts give (so the recompute rewrites members' ledgers) but not what likes
    // give, so the result cannot depend on whether a like was scored before or after the new settings took effect.
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "[points]\nanswer-accepted = 40\n").unwrap();
    let (likes, settings) = (likes.to_str().unwrap(), settings.to_str().unwrap());
    let template = dir.path().join("template.db");
    assert!(cadre(&template, &["plugin", "install"]).status.success());
    let output = cadre(&template, &["ingest", history.to_str().unwrap()]);
    assert!(output.status.success(), "{:?}", text(&output));

    let sequential = dir.path().join("sequential.db");
    std::fs::copy(&template, &sequential).unwrap();
    assert!(cadre(&sequential, &["ingest", likes]).status.success());
    assert!(cadre(&sequential, &["program", "apply", settings]).status.success());
    let expected = state(&sequential);
    let (processed, last, dead, kept, counted) = bookkeeping(&sequential);
    assert_eq!((processed, dead, kept), (last, 0, counted));

    let spawn = |db: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args(args)
            .env("CADRE_DB", db)
            .env("CADRE_CACHE_DIR", template.with_extension("cache"))
            .env_remove("CADRE_MODERATOR")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for round in 0..4 {
        let db = dir.path().join(format!("round{round}.db"));
        std::fs::copy(&template, &db).unwrap();
        // The apply starts a little later each round, so the likes' batches land at different points of it.
        let ingest = spawn(&db, &["ingest", likes]);
        std::thread::sleep(std::time::Duration::from_millis(100 * round));
        let apply = spawn(&db, &["program", "apply", settings]);
        let (ingest, apply) = (ingest.wait_with_output().unwrap(), apply.wait_with_output().unwrap());
        assert!(ingest.status.success(), "round {round}: ingest failed: {:?}", text(&ingest));
        assert!(apply.status.success(), "round {round}: apply failed: {:?}", text(&apply));
        let (processed, last, dead, kept, counted) = bookkeeping(&db);
        assert_eq!((processed, dead), (last, 0), "round {round}: every event delivered, none dead-lettered");
        assert_eq!(kept, counted, "round {round}: the store's size matches its rows");
        let got = state(&db);
        assert_eq!(ledger_rows(&db), ledger_rows(&sequential), "round {round}: ledger rows");
        assert_eq!(got, expected, "round {round}: the same as ingesting, then applying");
    }
}

#[test]
fn kill_9_at_random_points_then_resuming_gives_the_same_database_as_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    std::fs::write(&file, long_history(40, 8_000)).unwrap();
    let settings = repo_root().join("tests/walkthrough/settings.toml");
    let prepare = |db: &Path| {
        assert!(cadre(db, &["plugin", "install"]).status.success());
        assert!(cadre(db, &["program", "apply", settings.to_str().unwrap()]).status.success());
    };
    let clean = dir.path().join("clean.db");
    prepare(&clean);
    let started = std::time::Instant::now();
    let output = cadre(&clean, &["ingest", file.to_str().unwrap()]);
    // Kills fall within the time a whole run takes on this machine (an idle machine ran it in under 100 ms).
    let run_ms = started.elapsed().as_millis().max(20) as u64;
    assert!(output.status.success(), "{:?}", text(&output));

    let killed = dir.path().join("killed.db");
    prepare(&killed);
    // A seed from the clock, printed on failure so a failing run can be reproduced.
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut kills = 0;
    for _ in 0..6 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = std::time::Duration::from_millis(run_ms / 10 + (seed >> 33) % (run_ms * 8 / 10));
        let mut child = Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args(["ingest", file.to_str().unwrap()])
            .env("CADRE_DB", &killed)
            .env("CADRE_CACHE_DIR", killed.with_extension("cache"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            // SIGKILL: no destructor, no rollback, no flush — as a crash or `kill -9`.
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    let output = cadre(&killed, &["ingest", file.to_str().unwrap()]);
    assert!(output.status.success(), "resuming failed: {:?}", text(&output));
    assert!(kills > 0, "the run finished before any kill (seed {seed}); make the history longer");
    assert_eq!(state(&killed), state(&clean), "after {kills} kills (seed {seed})");
}

/// A good file of about 1,100 lines: ten members, a category, questions with answers, and every member liking
/// every answer once. Line 14 is like `keep` (u2 likes a0), line 15 like `gone` (u1 likes a0), line 16 its unlike.
fn good_history() -> Vec<String> {
    let at = "2024-02-01T10:00:00Z";
    let mut lines = Vec::new();
    for m in 0..10 {
        lines.push(format!(r#"{{"id":"u{m}","type":"member","name":"m{m}","joined":"2024-01-01T00:00:00Z"}}"#));
    }
    lines.push(r#"{"id":"c","type":"category","slug":"general","name":"General"}"#.to_owned());
    lines
        .push(format!(r#"{{"id":"q0","type":"question","author":"u0","category":"general","title":"Q","at":"{at}"}}"#));
    lines.push(format!(r#"{{"id":"a0","type":"answer","author":"u1","question":"q0","body":"A","at":"{at}"}}"#));
    lines.push(format!(r#"{{"id":"keep","type":"like","liker":"u2","post":"a0","at":"{at}"}}"#));
    lines.push(format!(r#"{{"id":"gone","type":"like","liker":"u1","post":"a0","at":"{at}"}}"#));
    lines.push(format!(r#"{{"id":"gone-x","type":"unlike","like":"gone","at":"{at}"}}"#));
    for q in 1..=90 {
        lines.push(format!(
            r#"{{"id":"q{q}","type":"question","author":"u{}","category":"general","title":"Q{q}","at":"{at}"}}"#,
            q % 10
        ));
        lines.push(format!(
            r#"{{"id":"a{q}","type":"answer","author":"u{}","question":"q{q}","body":"A","at":"{at}"}}"#,
            (q + 3) % 10
        ));
        for m in 0..10 {
            lines.push(format!(r#"{{"id":"l{q}-{m}","type":"like","liker":"u{m}","post":"a{q}","at":"{at}"}}"#));
        }
    }
    lines
}

fn counts(db: &Path) -> (i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap();
    (count("events"), count("members"), count("ledger"), count("likes"))
}

#[test]
fn a_line_the_forum_would_refuse_at_line_1_499_501_or_the_last_refuses_the_file_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let at = "2024-02-02T10:00:00Z";
    let good = good_history();
    assert!(good.len() > 1_000);
    // (where, the line, what the message must say). Line 1 needs the forum to hold a like already: the seed.
    let seed = [
        r#"{"id":"s1","type":"member","name":"seed-ada","joined":"2024-01-01T00:00:00Z"}"#,
        r#"{"id":"s2","type":"member","name":"seed-bob","joined":"2024-01-01T00:00:00Z"}"#,
        r#"{"id":"sc","type":"category","slug":"seeded","name":"Seeded"}"#,
        r#"{"id":"sq","type":"question","author":"s1","category":"seeded","title":"Seed","at":"2024-01-02T00:00:00Z"}"#,
        r#"{"id":"sa","type":"answer","author":"s2","question":"sq","body":"A","at":"2024-01-02T00:00:00Z"}"#,
        r#"{"id":"sl","type":"like","liker":"s1","post":"sa","at":"2024-01-02T00:00:00Z"}"#,
    ]
    .join("\n");
    let cases = [
        (
            1,
            format!(r#"{{"id":"bad","type":"like","liker":"s1","post":"sa","at":"{at}"}}"#),
            "member \"s1\" already likes post \"sa\" in the forum",
        ),
        (
            499,
            format!(r#"{{"id":"bad","type":"like","liker":"u2","post":"a0","at":"{at}"}}"#),
            "member \"u2\" already likes post \"a0\" (line 14)",
        ),
        (
            501,
            format!(r#"{{"id":"bad","type":"unaccept","answer":"a0","at":"{at}"}}"#),
            "answer \"a0\" is not the accepted answer of its question",
        ),
        (
            good.len() + 1,
            format!(r#"{{"id":"bad","type":"unlike","like":"gone","at":"{at}"}}"#),
            "the like \"gone\" was already removed (line 16)",
        ),
    ];
    for (line, bad, says) in cases {
        let db = dir.path().join(format!("forum-{line}.db"));
        assert!(cadre(&db, &["plugin", "install"]).status.success());
        if line == 1 {
            let file = dir.path().join("seed.jsonl");
            std::fs::write(&file, &seed).unwrap();
            assert!(cadre(&db, &["ingest", file.to_str().unwrap()]).status.success());
        }
        let before = (counts(&db), state(&db));
        let mut lines = good.clone();
        lines.insert(line - 1, bad);
        let file = dir.path().join(format!("refused-at-{line}.jsonl"));
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let output = cadre(&db, &["ingest", file.to_str().unwrap()]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "line {line}: {stderr}");
        assert!(stderr.contains(file.to_str().unwrap()), "names the file: {stderr}");
        assert!(stderr.contains(&format!("line {line}: {says}")), "line {line}: {stderr}");
        assert!(!stderr.contains("constraint") && !stderr.contains("database"), "in words, not SQL: {stderr}");
        assert_eq!((counts(&db), state(&db)), before, "refused at line {line}, yet something was applied");
        if line != 1 {
            assert_eq!(counts(&db), (0, 0, 0, 0), "no events, no members, no ledger rows, no likes");
        }
    }
    // Without its bad line, the same file is good: applied whole, and again as a no-op.
    let db = dir.path().join("forum-good.db");
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    let file = dir.path().join("good.jsonl");
    std::fs::write(&file, good.join("\n") + "\n").unwrap();
    let output = cadre(&db, &["ingest", file.to_str().unwrap()]);
    assert!(output.status.success(), "{:?}", text(&output));
    let applied = counts(&db);
    assert!(applied.2 > 0, "the program scored the likes: {applied:?}");
    let again = cadre(&db, &["ingest", file.to_str().unwrap()]);
    assert!(again.status.success(), "{:?}", text(&again));
    assert!(
        text(&again).0.contains(&format!("0 applied, {} already applied before", good.len())),
        "{:?}",
        text(&again)
    );
    assert_eq!(counts(&db), applied);
}

#[test]
fn a_name_that_looks_like_an_id_is_refused_and_an_old_one_is_never_taken_for_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let settings = repo_root().join("tests/walkthrough/settings.toml");
    assert!(cadre(&db, &["member", "register", "mod", "--moderator"]).status.success());
    assert!(cadre(&db, &["plugin", "install"]).status.success());
    assert!(cadre(&db, &["program", "apply", settings.to_str().unwrap(), "--as", "mod"]).status.success());
    for name in ["alice", "bob", "carol"] {
        let output = cadre(&db, &["member", "register", name]);
        assert!(output.status.success(), "{:?}", text(&output));
    }
    assert!(text(&cadre(&db, &["member", "register", "dave"])).0.contains("dave (#5) registered"));

    // New names are never all digits (nor start with '#'): on the command line, in ingest, at sign-up (web tests).
    for name in ["3", "#3"] {
        let output = cadre(&db, &["member", "register", name]);
        assert_eq!(output.status.code(), Some(2), "{name}: {:?}", text(&output));
        assert!(text(&output).1.contains("a member name cannot"), "{:?}", text(&output));
    }
    let file = dir.path().join("digits.jsonl");
    std::fs::write(&file, r#"{"id":"u3","type":"member","name":"3","joined":"2024-01-01T00:00:00Z"}"#).unwrap();
    let output = cadre(&db, &["ingest", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).1.contains("line 1: a member name cannot be all digits (\"3\")"), "{:?}", text(&output));

    // An older database may hold a member named "3" (here #6), while #3 is bob.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("INSERT INTO members (name, joined_at) VALUES ('3', 0)", []).unwrap();
    drop(conn);
    let add =
        |who: &str| cadre(&db, &["member", "add", who, "--tier", "insiders", "--reason", "invited", "--as", "mod"]);
    let output = add("3");
    assert_eq!(output.status.code(), Some(2), "a bare 3 is ambiguous here: {:?}", text(&output));
    let (_, stderr) = text(&output);
    assert!(stderr.contains("is the name of 3 (#6) and the id of bob (#3)") && stderr.contains("#6"), "{stderr}");
    let access = |db: &Path| -> Vec<i64> {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut statement = conn.prepare("SELECT member_id FROM access ORDER BY member_id").unwrap();
        statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(access(&db), Vec::<i64>::new(), "nobody was added");

    let output = add("#3");
    assert!(output.status.success(), "{:?}", text(&output));
    assert!(text(&output).0.contains("bob (#3) added to insiders (invited)"), "{:?}", text(&output));
    let output = add("#6");
    assert!(text(&output).0.contains("3 (#6) added to insiders (invited)"), "{:?}", text(&output));
    let output = add("4");
    assert!(
        text(&output).0.contains("carol (#4) added to insiders (invited)"),
        "a bare number nobody is named: {:?}",
        text(&output)
    );
    assert_eq!(access(&db), vec![3, 4, 6]);
    let output = add("#3");
    assert!(text(&output).1.contains("bob (#3) already has access to insiders"), "{:?}", text(&output));
    let (shown, _) = text(&cadre(&db, &["member", "show", "#6"]));
    assert!(shown.starts_with("3 (#6)\n"), "{shown}");
    let (audit, _) = text(&cadre(&db, &["audit", "--limit", "3"]));
    assert!(audit.contains("moderator mod (#1)") && audit.contains(" 3 (#6) "), "{audit}");
    assert_eq!(cadre(&db, &["ledger", "#99"]).status.code(), Some(3));
}

/// Every command that delivers an event says when the program failed on it, points to the dead letters and exits
/// 1; the forum's part (the tick, the access change) stands.
#[test]
fn tick_and_moderator_actions_exit_1_and_point_to_the_dead_letters_when_the_program_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    for args in [&["member", "register", "mod", "--moderator"][..], &["member", "register", "ada"]] {
        assert!(cadre(&db, args).status.success());
    }
    // The `panic` component panics on ticks and moderator actions (and likes).
    let install = cadre(&db, &["plugin", "install", component_path("panic").to_str().unwrap(), "--yes"]);
    assert!(install.status.success(), "{:?}", text(&install));

    let tick = cadre(&db, &["tick"]);
    let (stdout, stderr) = text(&tick);
    assert_eq!(tick.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("the program failed") && stderr.contains("see: cadre deadletters list"),
        "{stdout}{stderr}"
    );

    let add = cadre(&db, &["member", "add", "ada", "--tier", "insiders", "--reason", "met her", "--as", "mod"]);
    let (stdout, stderr) = text(&add);
    assert_eq!(add.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("ada (#2) added to insiders (invited)"), "the access change stands: {stdout}");
    assert!(stderr.contains("the program failed on this action (plugin Panics 0.0.1: trapped"), "{stderr}");
    assert!(stderr.contains("see: cadre deadletters list"), "{stderr}");

    let list = cadre(&db, &["deadletters", "list"]);
    let (stdout, _) = text(&list);
    assert_eq!(stdout.lines().count(), 2, "the tick and the action wait: {stdout}");
}
