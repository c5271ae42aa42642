//! `cadre discourse import`: a backup built in Discourse's real format (a `.tar.gz` with uploads and
//! `dump.sql.gz`, COPY blocks with extra columns, quoted names, escapes, NULLs, tables Cadre must skip, a removed
//! like, an old-style accepted answer in `topic_custom_fields`) gives the points the same history gives as webhooks.

use std::io::Write;

use cadre_core::Forum;
use cadre_discourse::DiscourseSettings;
use cadre_runtime::{Limits, Runtime};

const SETTINGS: &str = r#"
[[badges]]
id = "helper"
name = "Helper"
level = "bronze"
description = "Earned 20 points"
when = { points = 20 }
"#;

const DUMP: &str = "\\restrict Xq3\n\
SET statement_timeout = 0;\n\
COPY public.categories (id, name, slug, read_restricted, \"position\", description) FROM stdin;\n\
7\tGeneral\tgeneral\tf\t1\t\\N\n\
\\.\n\
COPY public.post_actions (id, post_id, user_id, post_action_type_id, deleted_at, created_at, updated_at, deleted_by_id) FROM stdin;\n\
1\t1001\t14\t2\t\\N\t2026-01-02 10:00:00.000\t2026-01-02 10:00:00.000\t\\N\n\
2\t1001\t13\t2\t\\N\t2026-01-02 10:01:00.000\t2026-01-02 10:01:00.000\t\\N\n\
3\t1002\t11\t2\t\\N\t2026-01-02 10:02:00.000\t2026-01-02 10:02:00.000\t\\N\n\
4\t1002\t14\t2\t2026-01-03 09:00:00.000\t2026-01-02 10:03:00.000\t2026-01-03 09:00:00.000\t14\n\
5\t2000\t14\t2\t\\N\t2026-01-02 10:04:00.000\t2026-01-02 10:04:00.000\t\\N\n\
6\t1001\t11\t3\t\\N\t2026-01-02 10:05:00.000\t2026-01-02 10:05:00.000\t\\N\n\
\\.\n\
COPY public.posts (id, user_id, topic_id, post_number, raw, cooked, created_at, updated_at, reply_to_post_number, post_type, deleted_at, wiki, hidden) FROM stdin;\n\
1000\t11\t100\t1\tHow do I\\tconfigure \\\\this?\\nThanks\t<p>x</p>\t2026-01-01 09:00:00.000\t2026-01-01 09:00:00.000\t\\N\t1\t\\N\tf\tf\n\
1001\t12\t100\t2\tLike so\t\t2026-01-01 10:00:00.000\t2026-01-01 10:00:00.000\t1\t1\t\\N\tf\tf\n\
1002\t13\t100\t3\tOr so\t\t2026-01-01 11:00:00.000\t2026-01-01 11:00:00.000\t\\N\t1\t\\N\tf\tf\n\
1003\t12\t100\t4\tpsst\t\t2026-01-01 12:00:00.000\t2026-01-01 12:00:00.000\t\\N\t4\t\\N\tf\tf\n\
2000\t12\t200\t1\tprivate\t\t2026-01-01 13:00:00.000\t2026-01-01 13:00:00.000\t\\N\t1\t\\N\tf\tf\n\
\\.\n\
COPY public.topic_custom_fields (id, topic_id, name, value, created_at, updated_at) FROM stdin;\n\
1\t100\taccepted_answer_post_id\t1002\t2026-01-02 12:00:00.000\t2026-01-02 12:00:00.000\n\
2\t100\tsome_other_field\t1001\t2026-01-02 12:00:00.000\t2026-01-02 12:00:00.000\n\
\\.\n\
COPY public.topics (id, title, created_at, user_id, category_id, archetype, deleted_at, \"views\") FROM stdin;\n\
100\tConfiguring\t2026-01-01 09:00:00.000\t11\t7\tregular\t\\N\t5\n\
200\tHi\t2026-01-01 13:00:00.000\t12\t\\N\tprivate_message\t\\N\t1\n\
\\.\n\
COPY public.user_emails (id, user_id, email, \"primary\") FROM stdin;\n\
1\t11\talice@example.org\tt\n\
\\.\n\
COPY public.user_passwords (id, user_id, password_hash, password_salt) FROM stdin;\n\
1\t11\tSECRET-HASH-abc\tsalt\n\
\\.\n\
COPY public.users (id, username, created_at, updated_at, name, active, staged, password_hash) FROM stdin;\n\
-1\tsystem\t2025-01-01 00:00:00.000\t2025-01-01 00:00:00.000\tsystem\tt\tf\t\\N\n\
11\talice\t2025-06-01 00:00:00.000\t2025-06-01 00:00:00.000\tAlice\tt\tf\tOLD-HASH-alice\n\
12\tbob\t2025-06-01 00:00:00.000\t2025-06-01 00:00:00.000\t\\N\tt\tf\t\\N\n\
13\tcarol\t2025-06-01 00:00:00.000\t2025-06-01 00:00:00.000\t\\N\tt\tf\t\\N\n\
14\tdave\t2025-06-01 00:00:00.000\t2025-06-01 00:00:00.000\t\\N\tt\tf\t\\N\n\
\\.\n\
\\unrestrict Xq3\n";

fn tar_entry(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn backup(dir: &std::path::Path) -> std::path::PathBuf {
    let mut tar = Vec::new();
    tar_entry(&mut tar, "uploads/default/original/1X/0123456789abcdef.png", &[0x89; 3000]);
    tar_entry(&mut tar, "dump.sql.gz", &gzip(DUMP.as_bytes()));
    tar.extend_from_slice(&[0u8; 1024]);
    let path = dir.join("forum-2026-01-04-033000-v20260101000000.tar.gz");
    std::fs::write(&path, gzip(&tar)).unwrap();
    path
}

fn forum(path: &std::path::Path) -> Forum {
    let mut forum = Forum::open(path, Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre_bundled::PROGRAM_WASM, "test", 0).unwrap();
    forum.configure(SETTINGS, "test", 0).unwrap();
    forum
}

fn points(forum: &Forum) -> Vec<(String, i64)> {
    forum
        .conn()
        .prepare("SELECT m.name, p.total FROM points p JOIN members m ON m.id = p.member_id ORDER BY m.name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn copy_fields_unescape_and_null_differs_from_empty() {
    use cadre_discourse::backup::copy_field;
    assert_eq!(copy_field("\\N"), None);
    assert_eq!(copy_field(""), Some(String::new()));
    assert_eq!(copy_field("a\\tb\\\\c\\nd").as_deref(), Some("a\tb\\c\nd"));
}

#[test]
fn a_backup_import_gives_the_points_of_the_same_history_and_keeps_no_secret_and_a_second_run_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = backup(dir.path());
    let db = dir.path().join("cadre.db");
    let mut forum = forum(&db);
    let settings = DiscourseSettings { url: "http://127.0.0.1:1".into(), ..DiscourseSettings::default() };
    let report = cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap();
    // bob: two likes (20); carol: alice's like (10) — dave's was removed — and the accept (15); alice: accepting (2).
    let imported = points(&forum);
    assert_eq!(imported, vec![("alice".into(), 2), ("bob".into(), 20), ("carol".into(), 25)], "{report:?}");
    assert!(report.skipped >= 2, "the whisper and the private message: {report:?}");

    // The same history as webhooks (and the unlike as reconciliation finds it).
    let mut live = forum_for_webhooks(dir.path());
    let ids = |n: i64, user: (i64, &str), topic: i64, number: i64| {
        cadre_discourse::simulator::SimPost::new(n, user, topic, number)
    };
    let (alice, bob, carol, dave) = ((11, "alice"), (12, "bob"), (13, "carol"), (14, "dave"));
    let send = |forum: &mut Forum, event: &str, body: serde_json::Value| {
        cadre_discourse::webhook::handle(forum, &settings, event, &body, 1_767_340_800_000).unwrap();
    };
    send(&mut live, "post_created", ids(1000, alice, 100, 1).created());
    send(&mut live, "post_created", ids(1001, bob, 100, 2).created());
    send(&mut live, "post_created", ids(1002, carol, 100, 3).created());
    send(&mut live, "post_liked", ids(1001, bob, 100, 2).liked(dave));
    send(&mut live, "post_liked", ids(1001, bob, 100, 2).liked(carol));
    send(&mut live, "post_liked", ids(1002, carol, 100, 3).liked(alice));
    send(&mut live, "post_liked", ids(1002, carol, 100, 3).liked(dave));
    cadre_discourse::webhook::unlike_by_id(&mut live, 1002, 14, 1_767_340_900_000).unwrap();
    send(&mut live, "accepted_solution", ids(1002, carol, 100, 3).solved());
    assert_eq!(points(&live), imported);

    // Importing again (or resuming after kill -9) records nothing; the webhooks that follow double nothing.
    let events: i64 = forum.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap();
    let again = cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap();
    assert_eq!(again.recorded, 0, "{again:?}");
    let handled = cadre_discourse::webhook::handle(
        &mut forum,
        &settings,
        "post_liked",
        &ids(1001, bob, 100, 2).liked(dave),
        1_767_400_000_000,
    )
    .unwrap();
    assert_eq!(handled, cadre_discourse::webhook::Handled::Duplicate);
    assert_eq!(forum.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap(), events);

    // Nothing of the emails or password hashes is kept anywhere in the database.
    drop(forum);
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.path().join("cadre.db-wal")).unwrap_or_default();
    for secret in ["alice@example.org", "SECRET-HASH-abc", "OLD-HASH-alice"] {
        let found = |hay: &[u8]| hay.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found(&bytes) && !found(&wal), "{secret} was kept");
    }
}

fn forum_for_webhooks(dir: &std::path::Path) -> Forum {
    forum(&dir.join("webhooks.db"))
}

#[test]
fn a_file_that_is_not_a_discourse_backup_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = Vec::new();
    tar_entry(&mut tar, "notes.txt", b"hello");
    tar.extend_from_slice(&[0u8; 1024]);
    let path = dir.path().join("other.tar.gz");
    std::fs::write(&path, gzip(&tar)).unwrap();
    let mut forum = forum(&dir.path().join("cadre.db"));
    let settings = DiscourseSettings { url: "http://127.0.0.1:1".into(), ..DiscourseSettings::default() };
    let error = cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap_err().to_string();
    assert!(error.contains("no dump.sql.gz"), "{error}");
}

/// A figure, not a check: `cargo test -p cadre-discourse --test backup -- --ignored --nocapture`.
#[test]
#[ignore]
fn a_synthetic_backup_of_20000_posts_and_60000_likes_imports_at_a_measured_speed() {
    let (users, topics, per_topic, likes_per_post) = (2_000i64, 2_000i64, 10i64, 3i64);
    let mut dump = String::from("COPY public.users (id, username, created_at) FROM stdin;\n");
    for u in 1..=users {
        dump += &format!("{u}\tuser{u}\t2025-01-01 00:00:00.000\n");
    }
    dump += "\\.\nCOPY public.topics (id, title, category_id, archetype, deleted_at) FROM stdin;\n";
    for t in 1..=topics {
        dump += &format!("{t}\tTopic {t}\t7\tregular\t\\N\n");
    }
    dump += "\\.\nCOPY public.posts (id, topic_id, user_id, post_number, post_type, wiki, created_at, deleted_at) FROM stdin;\n";
    let mut likes = String::from(
        "COPY public.post_actions (post_id, user_id, post_action_type_id, created_at, deleted_at) FROM stdin;\n",
    );
    let mut id = 0;
    for t in 1..=topics {
        for n in 1..=per_topic {
            id += 1;
            let (author, minute) = ((id * 7) % users + 1, id % 60);
            dump += &format!("{id}\t{t}\t{author}\t{n}\t1\tf\t2025-02-01 {:02}:{minute:02}:00.000\t\\N\n", (t % 24));
            for l in 0..likes_per_post {
                let liker = (id * 13 + l * 101) % users + 1;
                if liker != author {
                    likes += &format!("{id}\t{liker}\t2\t2025-02-02 {:02}:{minute:02}:00.000\t\\N\n", (t % 24));
                }
            }
        }
    }
    dump += "\\.\n";
    dump += &likes;
    dump += "\\.\n";
    let dir = tempfile::tempdir().unwrap();
    let mut tar = Vec::new();
    tar_entry(&mut tar, "dump.sql.gz", &gzip(dump.as_bytes()));
    tar.extend_from_slice(&[0u8; 1024]);
    let path = dir.path().join("big.tar.gz");
    std::fs::write(&path, gzip(&tar)).unwrap();
    let mut forum = forum(&dir.path().join("cadre.db"));
    let settings = DiscourseSettings { url: "http://127.0.0.1:1".into(), ..DiscourseSettings::default() };
    let started = std::time::Instant::now();
    let report = cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "{} rows, {} events in {elapsed:?}: {:.0} events/s",
        report.rows,
        report.recorded,
        report.recorded as f64 / elapsed.as_secs_f64()
    );
    let started = std::time::Instant::now();
    let again = cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap();
    eprintln!("again: {} recorded, {} duplicates in {:?}", again.recorded, again.duplicates, started.elapsed());
}

/// Import the test backup into a fresh forum, turn write-back on and drain it to `sim`: the forum, its database
/// path and the writer.
async fn import_then_write_back(
    dir: &std::path::Path,
    sim: &cadre_discourse::simulator::Simulator,
) -> (Forum, std::path::PathBuf, cadre_discourse::outbox::Writer) {
    use cadre_discourse::api::{Api, Budget};
    use cadre_discourse::{Secret, outbox::Writer};
    for (id, name) in [(11, "alice"), (12, "bob"), (13, "carol"), (14, "dave")] {
        sim.add_user(id, name);
    }
    let path = backup(dir);
    let db = dir.join("cadre.db");
    let mut forum = forum(&db);
    let settings = DiscourseSettings { url: sim.url.clone(), ..DiscourseSettings::default() };
    cadre_discourse::backup::import(&mut forum, &settings, &path, true).unwrap();
    assert_eq!(forum.set_write_back(true, 1_767_500_000_000).unwrap(), 2, "bob's and carol's Helper, queued quiet");
    let api = Api::new(
        &sim.url,
        "system",
        Secret::new(sim.api_key.clone()),
        Budget::new(60, std::time::Duration::from_secs(1)),
    )
    .unwrap();
    let writer = Writer { api, groups: Default::default(), backoff: std::time::Duration::from_millis(50) };
    let declaration = forum.plugin_mut().unwrap().declaration().clone();
    let report = writer.drain(&cadre_core::db::open(&db).unwrap(), &declaration).await.unwrap();
    assert_eq!((report.done, report.failed), (2, 0), "{report:?}");
    (forum, db, writer)
}

#[tokio::test(flavor = "multi_thread")]
async fn turning_write_back_on_after_an_import_grants_the_current_state_without_notifying_and_later_grants_notify() {
    let dir = tempfile::tempdir().unwrap();
    let sim = cadre_discourse::simulator::Simulator::start(60, std::time::Duration::from_secs(1)).await;
    let (mut forum, db, writer) = import_then_write_back(dir.path(), &sim).await;
    {
        let site = sim.site.lock().unwrap();
        assert_eq!(site.badges_of("bob"), vec!["Helper"]);
        assert_eq!(site.badges_of("carol"), vec!["Helper"]);
        assert_eq!(site.badges_of("alice"), Vec::<String>::new());
        assert_eq!(site.notifications, vec![], "the imported state reaches Discourse without a notification");
    }

    // Afterwards a grant is news: alice's new answer earns two likes and the badge, and she is notified once.
    let settings = DiscourseSettings { url: sim.url.clone(), ..DiscourseSettings::default() };
    let answer = cadre_discourse::simulator::SimPost::new(1004, (11, "alice"), 100, 5);
    let at = 1_767_600_000_000;
    cadre_discourse::webhook::handle(&mut forum, &settings, "post_created", &answer.created(), at).unwrap();
    for liker in [(12, "bob"), (13, "carol")] {
        cadre_discourse::webhook::handle(&mut forum, &settings, "post_liked", &answer.liked(liker), at).unwrap();
    }
    let declaration = forum.plugin_mut().unwrap().declaration().clone();
    writer.drain(&cadre_core::db::open(&db).unwrap(), &declaration).await.unwrap();
    let site = sim.site.lock().unwrap();
    assert_eq!(site.badges_of("alice"), vec!["Helper"]);
    let helper = site.badge_id("Helper").unwrap();
    assert_eq!(
        site.notifications,
        vec![cadre_discourse::simulator::SimNotification { user_id: 11, kind: "granted_badge", subject: helper }]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_discourse_without_silent_grants_notifies_once_per_badge_of_the_current_state() {
    let dir = tempfile::tempdir().unwrap();
    let sim = cadre_discourse::simulator::Simulator::start(60, std::time::Duration::from_secs(1)).await;
    sim.site.lock().unwrap().ignores_suppress_notification = true;
    let (_forum, _db, _writer) = import_then_write_back(dir.path(), &sim).await;
    // The history's grants were never sent (write-back was off during the import); the state is, once per badge.
    let site = sim.site.lock().unwrap();
    assert_eq!(site.notifications.len(), 2, "one per badge held (bob's, carol's): {:?}", site.notifications);
    assert_eq!(site.grants_created, 2);
}
