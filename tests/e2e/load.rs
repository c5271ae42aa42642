//! The forum under load over real HTTP (`cadre bench web`'s driver against the real `cadre serve` binary), and
//! faults while it is loaded: kill -9 of the server at random moments, a second writer (`cadre ingest`, `cadre
//! program apply`) on the same database, a disk that fills up, a hostile plugin installed live. Each test is short
//! and bounded (a few seconds of load, a write budget); the figures themselves come from `cadre bench web` and are
//! in docs/reliability.md — nothing here asserts a time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cadre::bench::web::{self, Op, OpKind, OpResult, Plan, Seeded, Server};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cadre"))
}

/// Run the `cadre` binary on `db`; (exit code, stdout, stderr).
fn cadre(db: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(exe())
        .arg("--db")
        .arg(db)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("CADRE_MODERATOR")
        .env_remove("CADRE_CONFIG")
        .output()
        .expect("cadre runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

fn small(members: usize, seconds: u64, max_writes: u64) -> Plan {
    Plan { members, duration: Duration::from_secs(seconds), max_writes, ..Plan::default() }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Every acknowledged write is in the database exactly once; every write the server never received, and every
/// refused one, is not. (A write whose answer was lost may or may not be there, but at most once.)
fn check_ops(db: &Path, ops: &[Op]) {
    let (posts, likes) = web::rows_in(db).unwrap();
    let mut checked = 0;
    for op in ops {
        let count = match op.kind {
            OpKind::Ask | OpKind::Answer => posts.get(op.body.as_ref().unwrap()).copied().unwrap_or(0),
            OpKind::Like => likes.get(&(op.member.clone(), op.target.clone())).copied().unwrap_or(0),
            _ => continue,
        };
        match op.result {
            OpResult::Acknowledged => assert_eq!(count, 1, "acknowledged but stored {count} times: {op:?}"),
            OpResult::NotSent | OpResult::Refused(_) => assert_eq!(count, 0, "not acknowledged but stored: {op:?}"),
            OpResult::Lost => assert!(count <= 1, "stored {count} times: {op:?}"),
        }
        checked += 1;
    }
    assert!(checked > 0, "no writes to check");
}

/// The program's state equals a full recompute under the settings in force: `program preview` finds no change,
/// and nothing waits in the dead letters.
fn state_equals_recompute(db: &Path, cache: &Path, dir: &Path) {
    let settings = dir.join("settings.toml");
    std::fs::write(&settings, cadre::demo::SETTINGS).unwrap();
    let (code, stdout, stderr) = cadre(db, cache, &["program", "preview", settings.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no change: no member's points, badges, access or nominations would differ"), "{stdout}");
    let (code, stdout, stderr) = cadre(db, cache, &["deadletters", "list", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout).unwrap(), serde_json::json!([]), "{stdout}");
}

fn prepared(dir: &Path, plan: &Plan) -> Seeded {
    web::prepare(&dir.join("forum"), plan).expect("the bench forum is prepared")
}

#[test]
fn members_over_http_ask_answer_like_unlike_and_accept_through_api_and_forms_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = small(6, 4, 600);
    let seeded = prepared(dir.path(), &plan);
    let server = Server::start(&exe(), &seeded.db, &seeded.cache, free_port()).unwrap();
    let figures = web::drive(server.addr, &seeded, &plan);
    drop(server);
    assert_eq!(figures.errors, 0, "{:?}", figures.error_samples);
    assert!(figures.writes > 50 && figures.form_writes > 0 && figures.form_writes < figures.writes, "{figures:?}");
    for kind in [OpKind::Ask, OpKind::Answer, OpKind::Like, OpKind::Unlike, OpKind::Accept] {
        assert!(figures.ops.iter().any(|op| op.kind == kind && op.result == OpResult::Acknowledged), "no {kind:?}");
    }
    assert!(figures.panel_latency.count > 0, "the moderator read the panel");
    assert!(figures.like_to_points.count > 0, "the probe saw likes arrive in points");
    // Every acknowledged question and answer is stored once; a like is there unless the member unliked it later.
    let (posts, _) = web::rows_in(&seeded.db).unwrap();
    for op in figures.ops.iter().filter(|op| op.body.is_some()) {
        assert_eq!(posts.get(op.body.as_ref().unwrap()), Some(&1), "{op:?}");
    }
    state_equals_recompute(&seeded.db, &seeded.cache, dir.path());
}

#[test]
fn kill_9_of_serve_at_random_moments_under_load_loses_no_acknowledged_write_and_stores_none_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    // Only likes and answers: each acknowledged write leaves exactly one row to count.
    let plan = Plan { append_only: true, probe: false, ..small(4, 8, 100_000) };
    let seeded = prepared(dir.path(), &plan);
    let addr = free_port();
    let server = Server::start(&exe(), &seeded.db, &seeded.cache, addr).unwrap();
    let (db, cache) = (seeded.db.clone(), seeded.cache.clone());
    let killer = std::thread::spawn(move || {
        let mut server = Some(server);
        let mut rng = cadre::rng::Rng::new(std::process::id() as u64);
        let mut kills = 0;
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(1_500 + rng.below(900)));
            server.take().unwrap().kill();
            kills += 1;
            server = Some(Server::start(&exe(), &db, &cache, addr).expect("serve restarts after kill -9"));
        }
        (server, kills)
    });
    let figures = web::drive(addr, &seeded, &plan);
    let (server, kills) = killer.join().unwrap();
    drop(server);
    assert_eq!(kills, 3);
    let acknowledged = figures.ops.iter().filter(|op| op.result == OpResult::Acknowledged).count();
    let failed = figures.ops.iter().filter(|op| op.result != OpResult::Acknowledged).count();
    assert!(acknowledged > 20, "{figures:?}");
    assert!(failed > 0, "the kills were noticed by the members: {:?}", figures.error_samples);
    assert!(!figures.ops.iter().any(|op| matches!(op.result, OpResult::Refused(_))), "{:?}", figures.error_samples);
    check_ops(&seeded.db, &figures.ops);
    state_equals_recompute(&seeded.db, &seeded.cache, dir.path());
    let count = |r: OpResult| figures.ops.iter().filter(|op| op.result == r).count();
    eprintln!(
        "kill -9 x{kills}: {acknowledged} acknowledged (each stored once), {} never received (none stored), {} lost \
         in flight (stored at most once)",
        count(OpResult::NotSent),
        count(OpResult::Lost)
    );
}

#[test]
fn ingest_and_program_apply_beside_a_loaded_server_both_finish_and_nobody_sees_database_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan { probe: false, ..small(4, 6, 100_000) };
    let seeded = prepared(dir.path(), &plan);
    let server = Server::start(&exe(), &seeded.db, &seeded.cache, free_port()).unwrap();
    // 2,000 lines for the second writer: members, a topic, answers and likes of its own.
    let file = dir.path().join("more.jsonl");
    let mut lines = Vec::new();
    for m in 0..20 {
        lines.push(format!(r#"{{"id":"x-u{m}","type":"member","name":"extra{m}","joined":"2025-01-01T00:00:00Z"}}"#));
    }
    let start = cadre::web::auth::now_ms() - 3_600_000;
    let at = |k: i64| {
        chrono::DateTime::from_timestamp_millis(start + k).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    lines.push(format!(
        r#"{{"id":"x-q","type":"question","author":"x-u0","category":"bench","title":"Extra","body":"?","at":"{}"}}"#,
        at(0)
    ));
    for a in 0..99 {
        lines.push(format!(
            r#"{{"id":"x-a{a}","type":"answer","author":"x-u{}","question":"x-q","body":"extra answer {a}","at":"{}"}}"#,
            a % 20,
            at(1 + a)
        ));
    }
    let mut likes = 0;
    'outer: for a in 0..99 {
        for m in 0..20 {
            if m == a % 20 {
                continue;
            }
            if likes == 1_880 {
                break 'outer;
            }
            lines.push(format!(
                r#"{{"id":"x-l{likes}","type":"like","liker":"x-u{m}","post":"x-a{a}","at":"{}"}}"#,
                at(200 + likes)
            ));
            likes += 1;
        }
    }
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, cadre::demo::SETTINGS.replace("answer-liked = 10", "answer-liked = 11")).unwrap();

    let (db, cache) = (seeded.db.clone(), seeded.cache.clone());
    let writers = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        let ingest = cadre(&db, &cache, &["ingest", file.to_str().unwrap()]);
        let apply = cadre(&db, &cache, &["program", "apply", settings.to_str().unwrap()]);
        (ingest, apply)
    });
    let figures = web::drive(server.addr, &seeded, &plan);
    let (ingest, apply) = writers.join().unwrap();
    drop(server);
    for (what, (code, stdout, stderr)) in [("ingest", &ingest), ("program apply", &apply)] {
        assert_eq!(*code, 0, "{what}: {stdout}{stderr}");
        assert!(!format!("{stdout}{stderr}").contains("locked"), "{what}: {stdout}{stderr}");
    }
    assert_eq!(figures.errors, 0, "{:?}", figures.error_samples);
    assert!(figures.error_samples.iter().all(|e| !e.contains("locked")));
    // Nothing lost: the ingested lines are all there, beside every acknowledged web write.
    let (posts, like_rows) = web::rows_in(&seeded.db).unwrap();
    assert_eq!((0..99).filter(|a| posts.contains_key(&format!("extra answer {a}"))).count(), 99);
    assert_eq!(like_rows.keys().filter(|(member, _)| member.starts_with("extra")).count(), 1_880);
    for op in figures.ops.iter().filter(|op| op.body.is_some()) {
        assert_eq!(posts.get(op.body.as_ref().unwrap()), Some(&1), "{op:?}");
    }
    // The settings applied meanwhile are the ones in force, and the state equals their full recompute.
    let settings = dir.path().join("check.toml");
    std::fs::write(&settings, cadre::demo::SETTINGS.replace("answer-liked = 10", "answer-liked = 11")).unwrap();
    let (code, stdout, stderr) = cadre(&seeded.db, &seeded.cache, &["program", "preview", settings.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no change"), "{stdout}");
}

/// `cadre serve` on a database in a small filesystem of its own: a tmpfs of `size` mounted in a private mount
/// namespace (`unshare --user --map-root-user --mount`: no privileges needed where user namespaces are allowed).
fn serve_on_a_small_disk(seed_db: &Path, cache: &Path, data: &Path, size: u64, addr: SocketAddr) -> Server {
    std::fs::create_dir_all(data).unwrap();
    let script = format!(
        "mount -t tmpfs -o size={size} tmpfs '{data}' && cp '{seed}' '{data}/forum.db' && exec '{exe}' --db \
         '{data}/forum.db' --cache-dir '{cache}' serve --addr {addr}",
        data = data.display(),
        seed = seed_db.display(),
        exe = exe().display(),
        cache = cache.display(),
    );
    let mut command = std::process::Command::new("unshare");
    command.args(["--user", "--map-root-user", "--mount", "sh", "-c", &script]);
    Server::spawn(command).expect("cadre serve starts on a small tmpfs (needs unshare and user namespaces)")
}

/// Run a command inside the server's mount namespace (where its small disk is mounted).
fn in_namespace(server: &Server, args: &[&str]) {
    let pid = server.pid().to_string();
    let status = std::process::Command::new("nsenter")
        .args(["--target", &pid, "--user", "--mount", "--preserve-credentials"])
        .args(args)
        .status()
        .expect("nsenter runs");
    assert!(status.success(), "{args:?}");
}

/// Whether this machine lets an unprivileged process mount a tmpfs in a namespace of its own (containers often do
/// not). Where it does not, the disk-full test says so loudly instead of failing on the machine rather than Cadre.
fn small_disks_possible() -> bool {
    std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn a_full_disk_refuses_writes_with_a_clear_message_loses_nothing_acknowledged_and_recovers_when_space_returns() {
    if !small_disks_possible() {
        eprintln!("SKIPPED: this machine does not allow `unshare --user --mount` with a tmpfs, so no small disk");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan { append_only: true, probe: false, moderator_reads: false, ..small(4, 4, 100_000) };
    // Members for two runs: the second (after space returns) by members who have liked nothing yet.
    let seeded = prepared(dir.path(), &Plan { members: 8, ..plan.clone() });
    let data = dir.path().join("small-disk");
    // The database and 1 MiB to spare: a few hundred writes fill it (the write-ahead log grows first).
    let size = std::fs::metadata(&seeded.db).unwrap().len().div_ceil(4096) * 4096 + (1 << 20);
    let addr = free_port();
    let server = serve_on_a_small_disk(&seeded.db, &seeded.cache, &data, size, addr);
    let full = web::drive(addr, &seeded, &plan);
    let refused: Vec<&Op> = full.ops.iter().filter(|op| op.result == OpResult::Refused(503)).collect();
    assert!(!refused.is_empty(), "the disk never filled: {} writes", full.writes);
    assert!(full.ops.iter().any(|op| op.result == OpResult::Acknowledged), "{:?}", full.error_samples);
    // Refused as such, never lost or answered with something else.
    for op in &full.ops {
        assert!(
            matches!(op.result, OpResult::Acknowledged | OpResult::Refused(503)),
            "{op:?} {:?}",
            full.error_samples
        );
    }
    assert!(
        full.error_samples.iter().all(|e| e.contains("its disk is full. Nothing was saved; try again later")),
        "{:?}",
        full.error_samples
    );
    // Space returns: the same server takes writes again, with no restart.
    in_namespace(&server, &["mount", "-o", &format!("remount,size={}", 64 << 20), data.to_str().unwrap()]);
    let again = web::drive(addr, &seeded, &Plan { max_writes: 200, first_member: 4, ..plan.clone() });
    assert_eq!(again.errors, 0, "{:?}", again.error_samples);
    assert!(again.writes > 0);
    // What was acknowledged before and after is there once; what was refused is not; the program's state is a
    // full recompute's. (The database is copied out of the namespace while the server is idle.)
    let out = dir.path().join("copied");
    std::fs::create_dir_all(&out).unwrap();
    let copy = format!("cp {0}/forum.db* '{1}/'", data.display(), out.display());
    in_namespace(&server, &["sh", "-c", &copy]);
    drop(server);
    let db = out.join("forum.db");
    let ops: Vec<Op> = full.ops.iter().chain(&again.ops).cloned().collect();
    check_ops(&db, &ops);
    state_equals_recompute(&db, &seeded.cache, dir.path());
    eprintln!(
        "disk of {size} bytes: {} writes acknowledged, then {} refused with 503; after space returned {} more, 0 errors",
        full.writes,
        refused.len(),
        again.writes
    );
}

#[test]
fn a_hostile_plugin_installed_live_under_load_fails_no_request_and_after_the_fix_every_event_applies_once_in_order() {
    for name in ["infinite-loop", "memory-bomb", "panic"] {
        let dir = tempfile::tempdir().unwrap();
        // Sixteen members: a forum's worth of independent failures before every member waits behind one (events
        // of a member with a dead letter wait; only the program's own failures count towards the quarantine).
        let plan = Plan { probe: false, ..small(16, 2, 100_000) };
        // Three phases (healthy, hostile, recovery), each by members of its own.
        let seeded = prepared(dir.path(), &Plan { members: 48, ..plan.clone() });
        let server = Server::start(&exe(), &seeded.db, &seeded.cache, free_port()).unwrap();
        let component = crate::util::component_path(name);
        let report = web::hostile(&exe(), &seeded, server.addr, &component, &plan).unwrap();
        drop(server);
        for (phase, figures) in
            [("healthy", &report.healthy), ("hostile", &report.hostile), ("recovery", &report.recovery)]
        {
            assert_eq!(figures.errors, 0, "{name}, {phase}: no request fails: {:?}", figures.error_samples);
            assert!(figures.writes > 0, "{name}, {phase}");
        }
        assert!(report.quarantined, "{name}: the program is quarantined: {}", report.render());
        assert!(report.retried.0 > 0 && report.retried.1 == 0, "{name}: retry {:?}", report.retried);
        // Every acknowledged post is there once, and each member's points arrived in the order of their events.
        let posts: Vec<Op> = [&report.healthy, &report.hostile, &report.recovery]
            .iter()
            .flat_map(|f| f.ops.iter().filter(|op| op.body.is_some()).cloned())
            .collect();
        check_ops(&seeded.db, &posts);
        let conn = rusqlite::Connection::open(&seeded.db).unwrap();
        let mut rows =
            conn.prepare("SELECT member_id, event_id FROM ledger WHERE event_id IS NOT NULL ORDER BY id").unwrap();
        let mut last = std::collections::HashMap::new();
        for row in rows.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).unwrap() {
            let (member, event) = row.unwrap();
            let before = last.insert(member, event).unwrap_or(0);
            assert!(event >= before, "{name}: member {member}'s event {event} applied after {before}");
        }
        // Applied once each: the state is what a full recompute gives.
        state_equals_recompute(&seeded.db, &seeded.cache, dir.path());
        eprintln!(
            "{name}: writes {}/{}/{}, p99 {:.1}/{:.1}/{:.1} ms (ratio {:.2}), waiting {}, retried {:?}, recomputed {}",
            report.healthy.writes,
            report.hostile.writes,
            report.recovery.writes,
            report.healthy.write_latency.p99_ms,
            report.hostile.write_latency.p99_ms,
            report.recovery.write_latency.p99_ms,
            report.p99_ratio,
            report.waiting,
            report.retried,
            report.recomputed.is_some()
        );
    }
}
