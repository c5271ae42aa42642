//! Known weaknesses closed by the hardening work (issue 17), each against the real part it concerns: a tick over a
//! tier of half a million members through the compiled component under the default limits.

use cadre::runtime::{Event, Limits};
use cadre_model::Effect;
use cadre_rules::kv::codec;

use crate::util::{day, program, runtime};

const IDLE_TIER: &str = r#"
badges = []
[[tiers]]
id = "legends"
name = "Legends"
description = "d"
mode = "auto"
when = { accepted-answers = 2 }
[tiers.inactivity]
inactive-days = 10
grace-days = 5
"#;

#[test]
fn a_tick_over_a_tier_of_500000_members_never_runs_out_of_fuel_and_a_round_of_ticks_warns_each_member_once() {
    // Regresses the tick that walked every member of a tier in one call (issue 17): it ran out of fuel long
    // before half a million members.
    const MEMBERS: u64 = 500_000;
    let mut plugin = program(&runtime(Limits::default()), IDLE_TIER);
    // The store as the program leaves it once half a million members earned the tier on day 0 (the layout of
    // `plugin/rules/src/tiers.rs`: each member's standing, and the tier's index sharded by member id).
    let mut writes = Vec::with_capacity(MEMBERS as usize + 64);
    let mut shards = vec![Vec::new(); 64];
    for member in 1..=MEMBERS {
        writes.push((format!("m/{member}/tier/legends"), Some(codec::encode(&[2, 0, 0]))));
        shards[(member % 64) as usize].extend_from_slice(&member.to_le_bytes());
    }
    for (shard, ids) in shards.into_iter().enumerate() {
        assert!(ids.len() <= 64 << 10, "a shard fits the host's value limit");
        writes.push((format!("tier/legends/members/{shard}"), Some(ids)));
    }
    plugin.backend_mut().apply(writes).unwrap();
    // Day 10: every member has been idle for ten days. Ticks deliver warnings a bounded slice at a time.
    let mut warned = vec![false; MEMBERS as usize + 1];
    let (mut total, mut ticks) = (0u64, 0u64);
    while total < MEMBERS {
        ticks += 1;
        assert!(ticks <= MEMBERS / cadre_rules::TICK_EFFECTS as u64 + 2, "the walk stopped advancing");
        let effects = plugin
            .call(&Event::Tick(day(10)))
            .unwrap_or_else(|e| panic!("tick {ticks} failed (out of fuel or another limit): {e}"));
        assert!(effects.len() <= cadre_rules::TICK_EFFECTS);
        for effect in effects {
            let Effect::NotifyModerators { member: Some(member), .. } = effect else { panic!("{effect:?}") };
            assert!(!std::mem::replace(&mut warned[member as usize], true), "member {member} warned twice");
            total += 1;
        }
    }
    // The round is over: another tick on the same day warns nobody a second time.
    for _ in 0..(MEMBERS as usize / cadre_rules::TICK_MEMBERS + 1) {
        assert!(plugin.call(&Event::Tick(day(10))).unwrap().is_empty());
    }
}

/// Run the `cadre` binary on the database `db`; (exit code, stdout, stderr).
fn cadre(db: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .env("CADRE_DB", db)
        .env("CADRE_CACHE_DIR", db.with_extension("cache"))
        .env_remove("CADRE_MODERATOR")
        .output()
        .expect("cadre runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[test]
fn every_file_reader_stops_at_its_limit_on_dev_zero_and_names_the_file_and_the_limit_with_exit_code_2() {
    // Regresses issue 17: `cadre ingest /dev/zero` read until the kernel killed it at 23.4 GB, and `program
    // check`, `plugin inspect` and `plugin install` passed 3 GB in two seconds.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let cases: [(&[&str], &str); 5] = [
        (&["ingest", "/dev/zero"], "longer than 81920 bytes (80 KiB, the limit for one line)"),
        (&["program", "check", "/dev/zero"], "larger than 65536 bytes (64 KiB)"),
        (&["program", "preview", "/dev/zero"], "larger than 65536 bytes (64 KiB)"),
        (&["plugin", "inspect", "/dev/zero"], "larger than 16777216 bytes (16 MiB)"),
        (&["plugin", "install", "/dev/zero", "--yes"], "larger than 16777216 bytes (16 MiB)"),
    ];
    for (args, limit) in cases {
        let started = std::time::Instant::now();
        let (code, _, stderr) = cadre(&db, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("/dev/zero") && stderr.contains(limit), "{args:?}: {stderr}");
        assert!(started.elapsed().as_secs() < 30, "{args:?} took {:?}", started.elapsed());
    }
}

#[test]
fn an_ingest_file_with_a_huge_line_invalid_utf8_or_a_byte_order_mark_gets_line_numbers_or_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let member = r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-02T09:00:00Z"}"#;
    // A line of 100 KB: refused by number, nothing applied.
    let huge = dir.path().join("huge.jsonl");
    std::fs::write(&huge, format!("{member}\n{{\"id\":\"{}\"}}\n", "x".repeat(100_000))).unwrap();
    let (code, _, stderr) = cadre(&db, &["ingest", huge.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2: longer than 81920 bytes"), "{stderr}");
    // Invalid UTF-8 on line 2: its line number.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, [member.as_bytes(), b"\n{\"id\":\"\xff\xfe\"}\n"].concat()).unwrap();
    let (code, _, stderr) = cadre(&db, &["ingest", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2: not valid UTF-8"), "{stderr}");
    // A byte-order mark before the first line (as some editors write): applied.
    let bom = dir.path().join("bom.jsonl");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), member.as_bytes(), b"\n"].concat()).unwrap();
    let (code, stdout, stderr) = cadre(&db, &["ingest", bom.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = cadre(&db, &["member", "show", "ada"]);
    assert_eq!(code, 0, "the member from the file with a byte-order mark exists: {stdout}{stderr}");
}

#[test]
fn settings_are_refused_by_size_before_the_program_sees_them_and_big_valid_ones_never_run_out_of_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    // 250 badges (~37 KB) ran out of fuel with exit code 1; now the program reads them all and says what is wrong.
    let badges: String = (0..250)
        .map(|i| {
            format!(
                "[[badges]]\nid = \"b{i}\"\nname = \"Badge {i}\"\nlevel = \"bronze\"\n\
                 description = \"earned by doing thing number {i} many times over\"\nwhen = {{ points = {} }}\n\n",
                i + 1
            )
        })
        .collect();
    let file = dir.path().join("many.toml");
    std::fs::write(&file, &badges).unwrap();
    let (code, stdout, stderr) = cadre(&db, &["program", "check", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("at most 100 badges") || stderr.contains("at most 100 badges"), "{stdout}{stderr}");
    assert!(!stderr.contains("fuel"), "{stderr}");
    // Just under the limit, in the shapes that cost the TOML reader most (thousands of keys, thousands of tables):
    // every one is read to the end and answered with errors, never "ran out of fuel".
    type Line = fn(usize) -> String;
    let shapes: [(&str, Line); 2] = [("keys", |i| format!("a{i}=1\n")), ("tables", |i| format!("[t{i}]\n"))];
    for (shape, line) in shapes {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 65_000 {
            text.push_str(&line(i));
            i += 1;
        }
        let file = dir.path().join(format!("{shape}.toml"));
        std::fs::write(&file, text).unwrap();
        let (code, stdout, stderr) = cadre(&db, &["program", "check", file.to_str().unwrap()]);
        assert_eq!(code, 2, "{shape}: {stdout}{stderr}");
        assert!(!stderr.contains("fuel") && stderr.contains("more error(s) not listed"), "{shape}: {stderr}");
    }
    // 200 KiB: refused by the host, naming the file and the limit.
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, "# padding\n".repeat(20_000)).unwrap();
    let (code, stdout, stderr) = cadre(&db, &["program", "check", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("huge.toml") && stderr.contains("65536 bytes (64 KiB)"), "{stderr}");
    // Invalid UTF-8: the line and column.
    let file = dir.path().join("latin1.toml");
    std::fs::write(&file, b"[caps]\nlikes-received-per-day = 1 # caf\xe9\n").unwrap();
    let (code, _, stderr) = cadre(&db, &["program", "check", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("latin1.toml: line 2, column 33: not valid UTF-8"), "{stderr}");
}

#[test]
fn tick_prints_words_not_rust_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let (code, stdout, stderr) = cadre(&db, &["plugin", "install", "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = cadre(&db, &["tick"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("delivered; the program changed nothing"), "{stdout}");
    assert!(!stdout.contains('{') && !stdout.contains("Applied"), "{stdout}");
    let (_, again, _) = cadre(&db, &["tick"]);
    assert!(again.contains("already delivered this minute") || again.contains("delivered;"), "{again}");
}

#[test]
fn a_read_command_on_a_mistyped_database_path_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("froum.db");
    let reads: [&[&str]; 7] = [
        &["notices"],
        &["audit"],
        &["ledger", "ada"],
        &["member", "show", "ada"],
        &["queue", "list"],
        &["deadletters", "list"],
        &["plugin", "list"],
    ];
    for args in reads {
        let (code, stdout, stderr) = cadre(&typo, args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("no forum database at") && stderr.contains("froum.db"), "{stderr}");
        assert!(!typo.exists(), "{args:?} created an empty database");
    }
}

#[test]
fn an_ingest_line_dated_before_its_post_or_in_year_9999_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let file = dir.path().join("times.jsonl");
    let lines = [
        r#"{"id":"u1","type":"member","name":"ada","joined":"2024-01-02T09:00:00Z"}"#,
        r#"{"id":"c1","type":"category","slug":"general","name":"General"}"#,
        r#"{"id":"q1","type":"question","author":"u1","category":"general","title":"Why?","at":"2024-05-01T10:00:00Z"}"#,
        r#"{"id":"a1","type":"answer","author":"u1","question":"q1","body":"Early","at":"2024-04-01T10:00:00Z"}"#,
        r#"{"id":"v1","type":"like","liker":"u1","post":"q1","at":"9999-12-31T23:59:59Z"}"#,
        r#"{"id":"v2","type":"like","liker":null,"post":"q1","at":"2024-04-30T10:00:00Z"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (code, _, stderr) = cadre(&db, &["ingest", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(r#"line 4: `2024-04-01T10:00:00Z` is before post "q1" was created"#), "{stderr}");
    assert!(stderr.contains("line 5: `9999-12-31T23:59:59Z` is in the future"), "{stderr}");
    assert!(stderr.contains(r#"line 6: `2024-04-30T10:00:00Z` is before post "q1" was created"#), "{stderr}");
    assert!(stderr.contains("nothing applied"), "{stderr}");
}

#[test]
fn under_json_an_error_is_json_on_stdout_with_its_causes_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    for args in [&["ledger", "ada", "--json"][..], &["program", "check", "/dev/zero", "--json"]] {
        let (code, stdout, stderr) = cadre(&db, args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        let value: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout:?}"));
        assert_eq!(value["exit_code"], 2);
        assert!(value["error"].as_str().is_some_and(|e| !e.is_empty()), "{value}");
        assert!(value["causes"].is_array(), "{value}");
        assert!(stderr.contains("error:"), "the text stays on stderr for a person: {stderr}");
    }
}
