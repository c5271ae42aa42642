//! `cadre discourse serve` as a process, killed with SIGKILL at random moments while it drains the write-back
//! outbox to the Discourse simulator: every grant and group change reaches Discourse exactly once. The simulator
//! speaks HTTPS with a test CA that the process trusts through `ca-file` in `cadre.toml`, as a site behind a
//! company's own CA would be configured.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cadre::Forum;
use cadre::discourse::simulator::Simulator;
use cadre::runtime::{Limits, Runtime};

const SETTINGS: &str = r#"
[[badges]]
id = "helper"
name = "Helper"
level = "bronze"
description = "Earned 20 points"
when = { points = 20 }

[[tiers]]
id = "insiders"
name = "Insiders"
description = "Members who help others"
mode = "auto"
when = { points = 25 }
"#;

/// Members granted a badge and a tier: 3 requests each (name, grant, group) plus 3 for the badge and group, within
/// the 60 a minute one process may send.
const MEMBERS: i64 = 15;

fn serve(config: &std::path::Path, db: &std::path::Path, cache: &std::path::Path, sim: &Simulator) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cadre"));
    command
        .args(["--host-config", config.to_str().unwrap(), "--db", db.to_str().unwrap()])
        .args(["--cache-dir", cache.to_str().unwrap(), "discourse", "serve"])
        .env("CADRE_DISCOURSE_API_KEY", &sim.api_key)
        .env("CADRE_DISCOURSE_WEBHOOK_SECRET", &sim.secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outbox_drained_by_a_process_killed_at_random_moments_reaches_discourse_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cache, config) = (dir.path().join("cadre.db"), dir.path().join("cache"), dir.path().join("cadre.toml"));
    let sim = Simulator::start_tls(1000, Duration::from_secs(1)).await;
    let ca_file = dir.path().join("discourse-ca.pem");
    std::fs::write(&ca_file, sim.ca_pem.as_ref().unwrap()).unwrap();
    sim.add_group("cadre-insiders", false);
    // 25 ms a request: a full drain takes about a second, so the kills land in the middle of it.
    sim.site.lock().unwrap().latency = Duration::from_millis(25);
    {
        let mut forum = Forum::open(&db, Runtime::new(Limits::default(), None).unwrap()).unwrap();
        forum.install(cadre::bundled::PROGRAM_WASM, "test", 0).unwrap();
        forum.configure(SETTINGS, "test", 0).unwrap();
        forum.set_write_back(true, 0).unwrap();
        for user in 1..=MEMBERS {
            let name = format!("member{user}");
            sim.add_user(user, &name);
            let member = forum.import_member(&format!("discourse:user:{user}"), &name, 0).unwrap();
            forum.conn().execute(
                "INSERT INTO badges (member_id, badge, name, level, description, granted_at) VALUES (?1, 'helper', 'Helper', 'bronze', '', 0)",
                [member as i64],
            ).unwrap();
            forum.conn().execute(
                "INSERT INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, 'insiders', 'earned', 0, 'test')",
                [member as i64],
            ).unwrap();
        }
    }
    std::fs::write(
        &config,
        format!(
            "[discourse]\nurl = \"{}\"\nca-file = \"{}\"\nlisten = \"127.0.0.1:0\"\n[discourse.groups]\ninsiders = \"cadre-insiders\"\n",
            sim.url,
            ca_file.display()
        ),
    )
    .unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'"), 2 * MEMBERS);

    // Kill at random moments (the seed is printed to replay a failure).
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut state = seed | 1;
    let mut kills = Vec::new();
    for _ in 0..5 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let before = sim.site.lock().unwrap().requests;
        let mut child = serve(&config, &db, &cache, &sim).spawn().unwrap();
        // Once the process talks to Discourse, kill it a random moment later (the drain takes some tens of ms).
        let started = Instant::now();
        while sim.site.lock().unwrap().requests == before && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(state % 300)).await;
        child.kill().unwrap(); // SIGKILL: no destructor, no rollback
        child.wait().unwrap();
        kills.push(count(&db, "SELECT COUNT(*) FROM outbox WHERE state = 'done'"));
        if kills.last() == Some(&(2 * MEMBERS)) {
            break;
        }
    }
    assert!(kills.iter().filter(|&&done| done < 2 * MEMBERS).count() >= 2, "at least two kills mid-drain: {kills:?}");
    eprintln!("rows done at each kill: {kills:?}");

    // Then run until the outbox is empty.
    let mut child = serve(&config, &db, &cache, &sim).spawn().unwrap();
    let started = Instant::now();
    while count(&db, "SELECT COUNT(*) FROM outbox WHERE state <> 'done'") > 0 {
        assert!(started.elapsed() < Duration::from_secs(90), "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let site = sim.site.lock().unwrap();
    assert_eq!(site.grants_created as i64, MEMBERS, "each badge granted exactly once");
    assert_eq!(site.user_badges.len() as i64, MEMBERS);
    assert_eq!(site.group_members("cadre-insiders").len() as i64, MEMBERS);
    assert_eq!(site.badges.len(), 1, "the program's badge created once");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM discourse_user_badges"), MEMBERS, "every user_badge id stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn cadre_discourse_reconcile_records_what_webhooks_missed_over_https_then_finds_nothing_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cache, config) = (dir.path().join("cadre.db"), dir.path().join("cache"), dir.path().join("cadre.toml"));
    let sim = Simulator::start_tls(60, Duration::from_secs(1)).await;
    let ca_file = dir.path().join("discourse-ca.pem");
    std::fs::write(&ca_file, sim.ca_pem.as_ref().unwrap()).unwrap();
    {
        let mut forum = Forum::open(&db, Runtime::new(Limits::default(), None).unwrap()).unwrap();
        forum.install(cadre::bundled::PROGRAM_WASM, "test", 0).unwrap();
        forum.configure(SETTINGS, "test", 0).unwrap();
    }
    // While Cadre was down: a question, an answer, a like and the accept, none of their webhooks delivered.
    let question = cadre::discourse::simulator::SimPost::new(1000, (11, "alice"), 100, 1);
    let answer = cadre::discourse::simulator::SimPost::new(1001, (12, "bob"), 100, 2);
    for (id, name) in [(11, "alice"), (12, "bob"), (13, "carol")] {
        sim.add_user(id, name);
    }
    sim.add_post(&question);
    sim.add_post(&answer);
    sim.set_like(answer.id, 13, true);
    sim.accept(&answer);
    std::fs::write(&config, format!("[discourse]\nurl = \"{}\"\nca-file = \"{}\"\n", sim.url, ca_file.display()))
        .unwrap();
    let reconcile = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cadre"));
        command
            .args(["--host-config", config.to_str().unwrap(), "--db", db.to_str().unwrap()])
            .args(["--cache-dir", cache.to_str().unwrap(), "discourse", "reconcile"])
            .env("CADRE_DISCOURSE_API_KEY", &sim.api_key);
        command
    };
    let first = tokio::task::spawn_blocking({
        let mut command = reconcile();
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{text}{}", String::from_utf8_lossy(&first.stderr));
    assert!(text.contains("2 missed posts, 1 missed accepts"), "{text}");
    assert!(text.contains("1 missed likes recorded"), "{text}");
    assert_eq!(
        count(&db, "SELECT total FROM points WHERE member_id = (SELECT id FROM members WHERE name = 'bob')"),
        25
    );
    let second = tokio::task::spawn_blocking({
        let mut command = reconcile();
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(text.contains("Nothing drifted"), "{text}");
}
