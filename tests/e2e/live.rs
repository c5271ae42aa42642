//! `cadre bench live` (issue 16's live row) run as a user runs it: the debug binary, a tiny sample count, idle and
//! under a small load. Checks the rows, their counts and that nothing failed; the badges the timed likes earned are
//! in the kept database. Nothing here asserts a time: the figures are in docs/performance.md.

/// Run `cadre bench live ARGS`; (exit code, stdout, stderr).
fn bench_live(args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(["bench", "live"])
        .args(args)
        .env_remove("CADRE_CONFIG")
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

/// The count column of each `like → badge visible` row.
fn badge_rows(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|line| line.strip_prefix("like → badge visible"))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn bench_live_times_each_asked_like_to_its_badge_idle_and_under_load_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let forum = dir.path().join("forum");
    let (code, text, stderr) = bench_live(&["--likes", "4", "--under-load", "2", "--dir", forum.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}{stderr}");
    assert_eq!(badge_rows(&text), vec![4, 4], "{text}");
    assert!(text.contains("idle: 4 samples asked, 0 errors"), "{text}");
    assert!(text.contains("under the load of 2 members"), "{text}");
    assert!(text.contains(", 0 errors\n"), "{text}");
    assert!(!text.contains("error:"), "{text}");
    assert!(text.contains("timed: from sending POST /api/p/ID/like"), "{text}");
    assert!(text.contains("the like's POST alone") && text.contains("each profile read after it"), "{text}");
    assert_eq!(text.matches("of 4 samples at or over the goal's 5 ms").count(), 2, "{text}");
    assert!(text.contains("samples with a WAL checkpoint") && text.contains("samples without one"), "{text}");
    // The badges are there: one per timed like, on the authors timed (none had it before: the bench checks).
    let conn = rusqlite::Connection::open(forum.join("forum.db")).unwrap();
    let badged: Vec<String> = conn
        .prepare(
            "SELECT m.name FROM badges b JOIN members m ON m.id = b.member_id \
             WHERE b.name = 'Well liked' AND m.name LIKE 'live-a%' ORDER BY m.name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = (0..8).map(|i| format!("live-a{i}")).collect();
    assert_eq!(badged, expected);
}

#[test]
fn bench_live_json_has_the_row_with_the_asked_count_and_no_error() {
    let (code, text, stderr) = bench_live(&["--likes", "3", "--json"]);
    assert_eq!(code, Some(0), "{text}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let phases = report["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 1, "{text}");
    assert_eq!(phases[0]["name"], "idle");
    assert_eq!(phases[0]["like_to_badge"]["count"], 3, "{text}");
    assert_eq!(phases[0]["like_post"]["count"], 3, "{text}");
    assert_eq!(phases[0]["errors"], 0, "{text}");
    let parts = ["with_checkpoint", "without_checkpoint"].map(|part| phases[0][part]["count"].as_u64().unwrap());
    assert_eq!(parts.iter().sum::<u64>(), 3, "every sample is in one part: {text}");
    assert!(report["timed"].as_str().unwrap().contains("GET /api/u/NAME"), "{text}");
}
