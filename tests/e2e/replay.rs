//! `cadre replay` on a real Stack Exchange dump (Cardano Stack Exchange, CC BY-SA 4.0; see the dump's README):
//! exact agreement with `expected-points.csv` through the real component, and resuming after `kill -9`.
//! Skipped, with a message, when the shared data folder is not present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn site() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/stackexchange/cardano.stackexchange.com");
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
        batch: cadre::replay::import::BATCH,
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

    // A finished replay run again skips everything and changes nothing.
    let again = cadre_replay(&site, &db, &out, true).output().unwrap();
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["events"], clean_report["events"]);
    assert!(again["run"]["resumed"].as_u64().unwrap() > 10_000, "{}", again["run"]);
}
