//! `cadre replay` on a real Stack Exchange dump (Cardano Stack Exchange, CC BY-SA 4.0; see the dump's README):
//! exact agreement with `expected-points.csv` through the real component, and resuming after `kill -9`.
//! Skipped, with a message, when the shared data folder is not present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn site() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stackexchange/cardano.stackexchange.com");
    if dir.join("Votes.xml.xz").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: no Stack Exchange data at {} (the shared data folder is not present)", dir.display());
        None
    }
}

fn parse_points(text: &str) -> BTreeMap<i64, i64> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (user, points) = l.trim().split_once(',').expect("user_id,points");
            (user.parse().unwrap(), points.parse().unwrap())
        })
        .collect()
}

fn expected(site: &Path) -> BTreeMap<i64, i64> {
    parse_points(&std::fs::read_to_string(site.join("expected-points.csv")).unwrap())
}

fn differences(expected: &BTreeMap<i64, i64>, actual: &BTreeMap<i64, i64>) -> Vec<String> {
    let users: std::collections::BTreeSet<&i64> = expected.keys().chain(actual.keys()).collect();
    users
        .into_iter()
        .filter(|u| expected.get(u) != actual.get(u))
        .map(|u| format!("user {u}: expected {:?}, got {:?}", expected.get(u), actual.get(u)))
        .collect()
}

#[test]
fn the_stackexchange_preset_through_the_component_gives_every_cardano_user_the_expected_points() {
    let Some(site) = site() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runtime = cadre::runtime::Runtime::new(cadre::runtime::Limits::default(), None).unwrap();
    let options = cadre::replay::Options {
        site: site.clone(),
        settings: cadre_rules::presets::STACKEXCHANGE.to_owned(),
        db: dir.path().join("cardano.db"),
        quiet: true,
        batch: cadre::replay::feed::BATCH,
        // Far fewer than Cardano's 8,064 accepts and upvotes (9 runs): the order comes from sorted runs merged back from disk, as it would for a
        // dump too large to sort in memory, and must give every user the same points.
        votes_in_memory: 1_000,
        posts_in_memory: cadre::replay::post_index::POSTS_IN_MEMORY,
    };
    let replayed = cadre::replay::replay(&options, runtime).expect("the replay runs");
    let wrong = differences(&expected(&site), &replayed.points);
    assert!(wrong.is_empty(), "{} users differ:\n{}", wrong.len(), wrong.join("\n"));
    let report = &replayed.report;
    assert_eq!(report.skipped.votes_on_deleted_posts, 54, "53 upvotes and 1 accept on deleted posts");
    assert!(report.earned_nothing.self_accepts > 0 && report.earned_nothing.upvotes_on_community_wiki > 0);
    assert!(report.caps.members > 0 && report.caps.points_withheld > 0, "some members hit the daily cap");
    assert_eq!(report.fidelity.steps.len(), 5);
    assert!(report.text().contains("Fidelity against Reputation"));
}

/// The forum's event log as replayed: every event's external id, kind, time and payload, in log order.
fn event_log(db: &Path) -> Vec<(String, String, i64, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn.prepare("SELECT external_id, kind, at, payload FROM events ORDER BY id").unwrap();
    statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_post_index_spilled_to_disk_gives_the_same_replay_as_one_in_memory() {
    let Some(site) = site() else { return };
    let dir = tempfile::tempdir().unwrap();
    let replay = |posts_in_memory: usize, name: &str| {
        let runtime = cadre::runtime::Runtime::new(cadre::runtime::Limits::default(), None).unwrap();
        let options = cadre::replay::Options {
            site: site.clone(),
            settings: cadre_rules::presets::STACKEXCHANGE.to_owned(),
            db: dir.path().join(name),
            quiet: true,
            batch: cadre::replay::feed::BATCH,
            votes_in_memory: cadre::replay::sorted_votes::VOTES_IN_MEMORY,
            posts_in_memory,
        };
        let replayed = cadre::replay::replay(&options, runtime).expect("the replay runs");
        let mut report = serde_json::to_value(&replayed.report).unwrap();
        // This run's own time and rate are the only figures allowed to differ.
        report.as_object_mut().unwrap().retain(|key, _| !matches!(key.as_str(), "seconds" | "events_per_second"));
        (replayed.points, report, event_log(&options.db))
    };
    let (memory_points, memory_report, memory_log) = replay(cadre::replay::post_index::POSTS_IN_MEMORY, "memory.db");
    // 1,000 of Cardano's 2,630 posts in memory: the index moves to its scratch table part-way through the pre-pass,
    // and every lookup, every forum id and the report's census come from the table.
    let (disk_points, disk_report, disk_log) = replay(1_000, "disk.db");
    let wrong = differences(&expected(&site), &disk_points);
    assert!(wrong.is_empty(), "{} users differ from expected-points.csv:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(disk_points, memory_points);
    assert_eq!(disk_report, memory_report);
    assert_eq!(disk_report["posts"], 2_630);
    assert_eq!(disk_log.len(), memory_log.len());
    assert!(disk_log == memory_log, "the event logs differ");
}

fn cadre_replay(site: &Path, db: &Path, out: &Path, json: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cadre"));
    command.arg("--cache-dir").arg(db.with_extension("cache")).arg("replay").arg(site);
    command.args(["--preset", "stackexchange", "--quiet", "--batch", "300", "--db"]).arg(db).arg("--per-user").arg(out);
    if json {
        command.arg("--json");
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// A delay between 100 and 2,100 ms, different on every call (no random crate needed).
fn random_delay(round: u32) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let mixed = (nanos ^ round.wrapping_mul(2_654_435_761)).wrapping_mul(2_246_822_519) % 2_000;
    Duration::from_millis(100 + mixed as u64)
}

#[test]
fn a_replay_killed_with_sigkill_several_times_resumes_to_exactly_the_uninterrupted_result() {
    let Some(site) = site() else { return };
    let dir = tempfile::tempdir().unwrap();

    // Uninterrupted.
    let (clean_db, clean_out) = (dir.path().join("clean.db"), dir.path().join("clean.csv"));
    let output = cadre_replay(&site, &clean_db, &clean_out, true).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let clean = parse_points(&std::fs::read_to_string(&clean_out).unwrap());
    let clean_report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    // Killed at random moments, then run to completion.
    let (db, out) = (dir.path().join("killed.db"), dir.path().join("killed.csv"));
    let mut kills = 0;
    for round in 0..4 {
        let mut child = cadre_replay(&site, &db, &out, true).spawn().unwrap();
        std::thread::sleep(random_delay(round));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix: no destructor, no rollback, no flush
            kills += 1;
        }
        child.wait().unwrap();
    }
    eprintln!("killed {kills} of 4 runs");
    let output = cadre_replay(&site, &db, &out, true).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let resumed = parse_points(&std::fs::read_to_string(&out).unwrap());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    eprintln!("the last run resumed after {} items", report["run"]["resumed"]);

    assert_eq!(differences(&clean, &resumed), Vec::<String>::new(), "resumed differs from uninterrupted");
    assert_eq!(differences(&expected(&site), &resumed), Vec::<String>::new(), "resumed differs from expected");
    assert_eq!(report["events"], clean_report["events"], "no event twice, none lost");
    assert_eq!(report["caps"], clean_report["caps"]);

    // The ledger agrees with the totals, event by event: nothing applied twice.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mismatched: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM points p WHERE p.total != (SELECT SUM(delta) FROM ledger l WHERE l.member_id = p.member_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatched, 0);
    let twice: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT external_id FROM events GROUP BY external_id HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(twice, 0);
    // The indexes a first replay leaves out until its end are back, whichever run was killed while they were out.
    assert_eq!(conn.query_row("SELECT COUNT(*) FROM deferred_indexes", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    for name in cadre::db::deferred_indexes::READ_SIDE_INDEXES {
        let there: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)", [name], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(there, "index {name} is missing after the resumed replay");
    }

    // A finished replay run again skips everything and changes nothing.
    let again = cadre_replay(&site, &db, &out, true).output().unwrap();
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["events"], clean_report["events"]);
    assert!(again["run"]["resumed"].as_u64().unwrap() > 10_000, "{}", again["run"]);
}

#[test]
fn a_first_replay_killed_while_its_readers_indexes_are_out_gets_them_back_from_the_next_command_that_opens_the_forum() {
    let Some(site) = site() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("forum.db"), dir.path().join("points.csv"));
    let index_there = |conn: &rusqlite::Connection, name: &str| -> bool {
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)", [name], |r| {
            r.get(0)
        })
        .unwrap()
    };
    // Kill the first replay while it runs without them (it takes seconds: the users are in, the events are going).
    let mut child = cadre_replay(&site, &db, &out, true).spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(120), "the replay never deferred its indexes");
        assert!(child.try_wait().unwrap().is_none(), "the replay ended before it could be killed while deferring");
        let deferring = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|conn| conn.query_row("SELECT COUNT(*) FROM deferred_indexes", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if deferring > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL: the replay cannot build them back
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert!(!index_there(&conn, "posts_author"), "the killed replay had left it out");
    drop(conn);

    // Another command on the same database (a moderator's, not an import) builds them as it opens it.
    let list = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .arg("--cache-dir")
        .arg(db.with_extension("cache"))
        .args(["plugin", "list", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let conn = rusqlite::Connection::open(&db).unwrap();
    for name in cadre::db::deferred_indexes::READ_SIDE_INDEXES {
        assert!(index_there(&conn, name), "index {name} was not built back");
    }
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    // The replay resumed (now with its indexes in place) still gives every user the expected points.
    let output = cadre_replay(&site, &db, &out, true).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let resumed = parse_points(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(differences(&expected(&site), &resumed), Vec::<String>::new());
}

/// A tiny site that has every quirk the mapping must handle, written as plain XML.
fn quirky_site(dir: &Path) {
    let rows = |root: &str, rows: &[String]| {
        format!("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}>\n{}\n</{root}>\n", rows.join("\n"))
    };
    let users: Vec<String> = [(1, 1), (2, 224), (3, 46)]
        .iter()
        .map(|(id, rep)| {
            format!(
                r#"  <row Id="{id}" Reputation="{rep}" CreationDate="2020-12-01T00:00:00.000" DisplayName="u{id}" />"#
            )
        })
        .collect();
    let post = |id: u32, kind: u32, extra: &str, at: &str| {
        format!(
            r#"  <row Id="{id}" PostTypeId="{kind}" CreationDate="2021-01-01T{at}" Body="&lt;p&gt;x&lt;/p&gt;" {extra} />"#
        )
    };
    let posts = vec![
        post(10, 2, r#"ParentId="11" OwnerUserId="2""#, "10:00:00.000"), // before its question in the file
        post(11, 1, r#"OwnerUserId="1" Title="Q""#, "09:00:00.000"),
        post(12, 2, r#"ParentId="99" OwnerUserId="3""#, "11:00:00.000"), // its question was deleted
        post(13, 1, r#"Title="ownerless""#, "12:00:00.000"),
        post(14, 2, r#"ParentId="13" OwnerUserId="2""#, "13:00:00.000"),
        post(15, 2, r#"ParentId="11" OwnerUserId="1""#, "14:00:00.000"), // the asker's own answer
        post(16, 1, r#"OwnerUserId="3" Title="wiki" CommunityOwnedDate="2021-01-03T15:00:00.000""#, "15:00:00.000"),
        post(17, 4, r#"OwnerUserId="3""#, "16:00:00.000"), // a tag wiki
        // Out of date order in the file: 18 was created days after 19, whose vote must still find 19 imported.
        post(18, 1, r#"OwnerUserId="1" Title="later""#, "17:00:00.000").replace("2021-01-01", "2021-01-05"),
        post(19, 1, r#"OwnerUserId="3" Title="earlier""#, "17:00:00.000"),
    ];
    let vote = |id: u32, kind: u32, post: u32, day: u32| {
        format!(
            r#"  <row Id="{id}" PostId="{post}" VoteTypeId="{kind}" CreationDate="2021-01-{day:02}T00:00:00.000" />"#
        )
    };
    let mut votes = vec![
        vote(1, 2, 10, 1),
        vote(2, 1, 10, 2),
        vote(3, 2, 12, 2),
        vote(4, 1, 12, 2),
        vote(5, 1, 14, 2),
        vote(6, 1, 15, 2), // the accept moves from 10 to the asker's own answer
        vote(7, 2, 16, 2),
        vote(8, 2, 16, 3), // community wiki from the 3rd: nothing
        vote(9, 2, 17, 2),
        vote(10, 2, 999, 2),
        vote(11, 3, 10, 2),
        vote(12, 2, 19, 2),
    ];
    votes.extend((100..125).map(|id| vote(id, 2, 14, 4))); // 25 upvotes in a day: 200 of 250
    std::fs::write(dir.join("Users.xml"), rows("users", &users)).unwrap();
    std::fs::write(dir.join("Posts.xml"), rows("posts", &posts)).unwrap();
    std::fs::write(dir.join("Votes.xml"), rows("votes", &votes)).unwrap();
}

#[test]
fn answers_before_their_question_deleted_questions_unknown_askers_wiki_and_caps_map_as_preset_md_says() {
    // Both forms of the post index: in memory, and on disk from the first post (a scratch table).
    for posts_in_memory in [cadre::replay::post_index::POSTS_IN_MEMORY, 0] {
        quirky_site_replays_as_preset_md_says(posts_in_memory);
    }
}

fn quirky_site_replays_as_preset_md_says(posts_in_memory: usize) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("quirky.stackexchange.com");
    std::fs::create_dir(&site).unwrap();
    quirky_site(&site);
    let runtime = cadre::runtime::Runtime::new(cadre::runtime::Limits::default(), None).unwrap();
    let options = cadre::replay::Options {
        site,
        settings: cadre_rules::presets::STACKEXCHANGE.to_owned(),
        db: dir.path().join("quirky.db"),
        quiet: true,
        batch: 4,
        votes_in_memory: cadre::replay::sorted_votes::VOTES_IN_MEMORY,
        posts_in_memory,
    };
    let replayed = cadre::replay::replay(&options, runtime).expect("the replay runs");
    // 1: +2 for accepting 10, taken back when the accept moves to 1's own answer 15 (a self-accept: nothing). 2: 10
    // + 15 (answer 10) − 15 (the accept moved away) + 15 (answer 14, asker unknown) + 200 (capped). 3: 10 + 15
    // (answer 12 under a deleted question) + 10 (the wiki's vote before its day) + 10 (question 19, listed after a
    // later question).
    assert_eq!(replayed.points, BTreeMap::from([(2, 225), (3, 45)]));
    let report = &replayed.report;
    assert_eq!((report.skipped.votes_on_deleted_posts, report.skipped.votes_on_other_post_types), (1, 1));
    assert_eq!((report.earned_nothing.self_accepts, report.earned_nothing.upvotes_on_community_wiki), (1, 1));
    assert_eq!(report.earned_nothing.posts_without_owner, 1);
    assert_eq!((report.caps.members, report.caps.points_withheld), (1, 50));
    assert_eq!(report.deleted_questions, 1);
    assert_eq!(report.run.refused, BTreeMap::new(), "the forum refused nothing");
    // Fidelity: reputations are 1 + points (+ the downvote's −2 for user 2): after every ingredient, all exact.
    assert_eq!(report.fidelity.steps.last().unwrap().abs_difference, 0, "{:?}", report.fidelity);
}

/// `cadre ARGS` with `CADRE_DB` pointing at `db` (as the walkthrough exports it), in `dir`.
fn cadre_with_env_db(dir: &Path, db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .env("CADRE_DB", db)
        .env("CADRE_CACHE_DIR", dir.join("cache"))
        .env_remove("CADRE_MODERATOR")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap())
        .output()
        .unwrap()
}

fn table_counts(db: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    ["members", "posts", "events", "ledger", "likes"]
        .iter()
        .map(|t| conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).unwrap())
        .collect()
}

#[test]
fn a_replay_refuses_a_live_forum_even_when_cadre_db_names_it_and_its_settings_match() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("quirky.stackexchange.com");
    std::fs::create_dir(&site).unwrap();
    quirky_site(&site);
    let live = dir.path().join("live.db");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_owned();
    let preset = root.join("plugin/presets/stackexchange.toml");
    for args in [
        vec!["member", "register", "mod", "--moderator"],
        vec!["plugin", "install"],
        vec!["program", "apply", preset.to_str().unwrap(), "--as", "mod"],
        vec!["ingest", root.join("tests/walkthrough/community.jsonl").to_str().unwrap()],
    ] {
        let output = cadre_with_env_db(dir.path(), &live, &args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let before = table_counts(&live);
    let output = cadre_with_env_db(dir.path(), &live, &["replay", site.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a replay database") && stderr.contains("CADRE_DB"), "{stderr}");
    assert_eq!(table_counts(&live), before, "nothing was written into the live forum");
    // A new file is claimed by the replay, and a rerun resumes it.
    let replay_db = dir.path().join("quirky.db");
    for _ in 0..2 {
        let output = cadre_with_env_db(dir.path(), &replay_db, &["replay", site.to_str().unwrap(), "--quiet"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn a_replay_database_resumes_only_the_dump_it_was_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("quirky.stackexchange.com");
    std::fs::create_dir(&site).unwrap();
    quirky_site(&site);
    let db = dir.path().join("quirky.db");
    let (out, json) = (dir.path().join("points.csv"), true);
    let output = cadre_replay(&site, &db, &out, json).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let points = std::fs::read_to_string(&out).unwrap();
    let before = table_counts(&db);

    // A newer dump: the same site with one more upvote for user 3's question 19.
    let votes = std::fs::read_to_string(site.join("Votes.xml")).unwrap();
    let newer = votes.replace(
        "</votes>",
        "  <row Id=\"200\" PostId=\"19\" VoteTypeId=\"2\" CreationDate=\"2021-01-09T00:00:00.000\" />\n</votes>",
    );
    std::fs::write(site.join("Votes.xml"), newer).unwrap();
    let output = cadre_replay(&site, &db, &out, json).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds a replay of another dump of quirky.stackexchange.com"), "{stderr}");
    assert!(stderr.contains("Votes.xml (") && stderr.contains("the database holds Votes.xml ("), "{stderr}");
    assert!(stderr.contains("new database"), "{stderr}");
    assert_eq!(table_counts(&db), before, "nothing of the newer dump was applied");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), points, "the per-user file was not rewritten");

    // The same size but other bytes is another dump too.
    std::fs::write(site.join("Votes.xml"), votes.replace("Id=\"12\"", "Id=\"13\"").replace("Id=\"11\"", "Id=\"12\""))
        .unwrap();
    assert_eq!(std::fs::metadata(site.join("Votes.xml")).unwrap().len() as usize, votes.len());
    let output = cadre_replay(&site, &db, &out, json).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));

    // The original files resume (and change nothing).
    std::fs::write(site.join("Votes.xml"), &votes).unwrap();
    let output = cadre_replay(&site, &db, &out, json).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(table_counts(&db), before);
}

#[test]
fn a_replay_that_stops_on_an_error_says_what_is_committed_and_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("quirky.stackexchange.com");
    std::fs::create_dir(&site).unwrap();
    quirky_site(&site);
    // A user row that cannot be read, after the three good ones.
    let users = std::fs::read_to_string(site.join("Users.xml")).unwrap();
    let broken = users.replace(
        "</users>",
        "  <row Id=\"x4\" Reputation=\"1\" CreationDate=\"2020-12-01T00:00:00.000\" DisplayName=\"u4\" />\n</users>",
    );
    std::fs::write(site.join("Users.xml"), broken).unwrap();
    let db = dir.path().join("quirky.db");
    let output = cadre_replay(&site, &db, &dir.path().join("points.csv"), false).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("Users.xml, row"), "{stderr}");
    assert!(stderr.contains("The replay stopped. Committed in"), "{stderr}");
    assert!(stderr.contains("3 member(s) and 0 event(s) of this dump"), "{stderr}");
    assert!(stderr.contains("run the same command again with the same dump files"), "{stderr}");
}

#[test]
fn bench_dump_replays_the_site_copied_twice_with_and_without_spilling_the_vote_sort() {
    let Some(site) = site() else { return };
    let output = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(["bench", "dump"])
        .arg(&site)
        .args(["--scales", "1,2", "--spill-at", "1000", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let (one, two) = (&rows[0], &rows[1]);
    assert_eq!(two["votes"].as_u64().unwrap(), 2 * one["votes"].as_u64().unwrap(), "{stdout}");
    assert_eq!(two["posts"].as_u64().unwrap(), 2 * one["posts"].as_u64().unwrap(), "{stdout}");
    for row in [one, two] {
        for figure in ["peak_mib", "events_per_s", "peak_mib_spilling", "events_per_s_spilling"] {
            assert!(row[figure].as_f64().unwrap() > 0.0, "{figure}: {stdout}");
        }
    }
}
