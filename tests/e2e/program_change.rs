//! Changing the program while the forum runs: a long-running process (the forum, as `cadre serve` holds it) and the
//! real `cadre` binary as a second process on the same database. The database is the one truth: every event goes to
//! the program and settings in force at that moment, whichever process put them there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cadre::events::Delivery;
use cadre::forum::{Forum, NewPost};
use cadre::runtime::bindings::PostKind;
use cadre::runtime::{Limits, Runtime};
use cadre::web::ForumHandle;

use crate::util::{component_path, day};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// `cadre ARGS` against the database `db`, as a second process.
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

/// Run `cadre ARGS`, insist that it succeeds, and return what it printed.
fn ok(db: &Path, args: &[&str]) -> String {
    let output = cadre(db, args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "cadre {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn points(forum: &Forum, member: u64) -> i64 {
    forum
        .conn()
        .query_row("SELECT COALESCE(SUM(total), 0) FROM points WHERE member_id = ?1", [member as i64], |r| r.get(0))
        .unwrap()
}

/// The forum as a running server holds it, with the bundled program installed by that process, a question and an
/// answer. Returns the forum, the answerer, the answer and members who can like it.
fn running_forum(db: &Path) -> (Forum, u64, u64, Vec<u64>) {
    let mut forum = Forum::open(db, Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre::bundled::PROGRAM_WASM, "system", day(0)).unwrap();
    let asker = forum.register("asker", day(0), false).unwrap();
    let helper = forum.register("helper", day(0), false).unwrap();
    let likers: Vec<u64> = (0..4).map(|i| forum.register(&format!("liker{i}"), day(0), false).unwrap()).collect();
    let general = forum.create_category("general", "General", None).unwrap();
    let post = |kind, author, category, parent, title: Option<&str>| NewPost {
        kind,
        author,
        category,
        parent,
        title: title.map(str::to_owned),
        body: "text".into(),
        at: day(1),
    };
    let (q, _) = forum.create_post("q1", post(PostKind::Question, asker, Some(general), None, Some("How?"))).unwrap();
    let (a, _) = forum.create_post("a1", post(PostKind::Answer, helper, None, Some(q), None)).unwrap();
    (forum, helper, a, likers)
}

#[test]
fn an_upgrade_by_another_process_reaches_the_running_forum_before_its_next_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let (mut forum, helper, answer, likers) = running_forum(&db);
    let before = forum.like("l1", likers[0], answer, day(1)).unwrap();
    assert!(matches!(before.delivery, Delivery::Applied { .. }), "{before:?}");
    assert_eq!(points(&forum, helper), 10);

    let panic = component_path("panic");
    ok(&db, &["plugin", "upgrade", panic.to_str().unwrap(), "--yes"]);
    assert!(ok(&db, &["plugin", "list"]).contains("active   #2   Panics 0.0.1"));

    // The running forum's next event goes to the program in force: the one the other process installed.
    let after = forum.like("l2", likers[1], answer, day(1)).unwrap();
    let Delivery::DeadLettered { error } = &after.delivery else {
        panic!("the running forum still called the old program: {after:?}")
    };
    assert!(error.contains("Panics 0.0.1"), "{error}");
    assert_eq!(points(&forum, helper), 10, "nothing from the new program's failed call");
}

#[test]
fn settings_applied_by_another_process_score_the_running_forums_next_like() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let (mut forum, helper, answer, likers) = running_forum(&db);
    forum.like("l1", likers[0], answer, day(1)).unwrap();
    assert_eq!(points(&forum, helper), 10);

    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "[points]\nanswer-liked = 3\n").unwrap();
    ok(&db, &["program", "apply", settings.to_str().unwrap()]);
    assert_eq!(points(&forum, helper), 3, "the other process recomputed history under the new settings");

    forum.like("l2", likers[1], answer, day(1)).unwrap();
    assert_eq!(points(&forum, helper), 6, "the like is scored under the settings in force (3), not the old ones (10)");
    // Stored points are what a preview of the settings in force computes: no drift.
    let in_force = std::fs::read_to_string(&settings).unwrap();
    let preview = forum.preview(&in_force).unwrap().unwrap();
    assert!(preview.points.is_empty(), "stored points drifted from the settings in force: {:?}", preview.points);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_rollback_and_retry_by_another_process_the_server_runs_and_shows_the_restored_program() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let path = db.clone();
    // The server's forum thread, as `cadre serve` runs it.
    let server = ForumHandle::spawn(move || {
        let (mut forum, _, answer, likers) = running_forum(&path);
        let wasm = std::fs::read(component_path("panic")).unwrap();
        forum.install(&wasm, "system", day(1))?;
        let outcome = forum.like("l1", likers[0], answer, day(1))?;
        assert!(matches!(outcome.delivery, Delivery::DeadLettered { .. }), "{outcome:?}");
        Ok(forum)
    })
    .unwrap();

    assert!(ok(&db, &["plugin", "rollback"]).contains("rolled back to cadre-superuser"));
    assert!(
        ok(&db, &["deadletters", "retry"]).contains("1 dead letter(s) applied"),
        "the CLI's restored program took the like"
    );

    // What the server shows comes from the program in force.
    let name = server.run(|forum| forum.plugin_mut().map(|p| p.name().to_string())).await.unwrap();
    assert!(name.is_some_and(|n| n.starts_with("cadre-superuser")), "the server still shows the rolled-back program");
    // And its next event goes to the restored program instead of being dead-lettered with the old one's error.
    let (delivery, helper_points) = server
        .run(|forum| {
            let (helper, liker) = (forum.member_id("helper").unwrap(), forum.member_id("liker1").unwrap());
            let answer: i64 =
                forum.conn().query_row("SELECT id FROM posts WHERE kind = 'answer'", [], |r| r.get(0)).unwrap();
            let outcome = forum.like("l2", liker, answer as u64, day(2)).unwrap();
            (outcome.delivery, points(forum, helper))
        })
        .await
        .unwrap();
    assert!(matches!(delivery, Delivery::Applied { .. }), "the server still ran the rolled-back program: {delivery:?}");
    assert_eq!(helper_points, 20, "the retried like and the new one, each once");
}
