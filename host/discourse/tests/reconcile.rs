//! Reconciliation against the Discourse simulator, over real HTTP on 127.0.0.1, a real SQLite file and the real
//! bundled program: posts, accepts, likes and unlikes sent while Cadre was down are recovered and give the points the
//! webhooks give; lists longer than one page are read to the end; badge and group drift is repaired both ways and a
//! badge an admin granted by hand is reported, not revoked; a reconcile that finds nothing changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cadre_core::Forum;
use cadre_discourse::api::{Api, Budget};
use cadre_discourse::outbox::Writer;
use cadre_discourse::reconcile::{reconcile_all, reconcile_badges, reconcile_groups, reconcile_likes};
use cadre_discourse::server::{ForumThread, HookState, router};
use cadre_discourse::simulator::{SimPost, Simulator};
use cadre_discourse::{DiscourseSettings, Secret};
use cadre_runtime::{Limits, Runtime};
use serde_json::json;

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

const ALICE: (i64, &str) = (11, "alice");
const BOB: (i64, &str) = (12, "bob");
const CAROL: (i64, &str) = (13, "carol");
const DAVE: (i64, &str) = (14, "dave");

fn open(path: &std::path::Path) -> Forum {
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let mut forum = Forum::open(path, runtime).unwrap();
    if forum.conn().query_row("SELECT COUNT(*) FROM program", [], |r| r.get::<_, i64>(0)).unwrap() == 0 {
        forum.install(cadre_bundled::PROGRAM_WASM, "test", 0).unwrap();
        forum.configure(SETTINGS, "test", 0).unwrap();
    }
    forum
}

struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    sim: Simulator,
    cadre: String,
    forum: ForumThread,
    settings: Arc<DiscourseSettings>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cadre.db");
    open(&db);
    let sim = Simulator::start(60, Duration::from_secs(1)).await;
    for user in [ALICE, BOB, CAROL, DAVE] {
        sim.add_user(user.0, user.1);
    }
    sim.add_group("cadre-insiders", false);
    let path = db.clone();
    let forum = ForumThread::spawn(move || Ok(open(&path))).unwrap();
    let settings = Arc::new(DiscourseSettings {
        url: sim.url.clone(),
        groups: BTreeMap::from([("insiders".to_owned(), "cadre-insiders".to_owned())]),
        ..DiscourseSettings::default()
    });
    let state = HookState {
        forum: forum.clone(),
        settings: settings.clone(),
        secret: Arc::new(Secret::new(sim.secret.clone())),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cadre = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    World { _dir: dir, db, sim, cadre, forum, settings }
}

/// Where webhooks go while Cadre is down: a port nobody listens on (Discourse records the failure, never retries).
async fn down() -> String {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    url
}

impl World {
    fn writer(&self) -> Writer {
        let api = Api::new(
            &self.sim.url,
            "system",
            Secret::new(self.sim.api_key.clone()),
            Budget::new(60, Duration::from_secs(1)),
        )
        .unwrap();
        Writer { api, groups: self.settings.groups.clone(), backoff: Duration::from_millis(50) }
    }

    fn conn(&self) -> rusqlite::Connection {
        cadre_core::db::open(&self.db).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Send a webhook to `target` (Cadre, or the closed port while it is down).
    async fn send_to(&self, target: &str, event: &str, event_type: &str, body: serde_json::Value) -> bool {
        match self.sim.deliver(target, event, event_type, &body).await {
            Some((status, answer)) => {
                assert_eq!(status, 200, "{answer}");
                true
            }
            None => false,
        }
    }

    async fn points(&self) -> BTreeMap<String, i64> {
        self.forum
            .run(|f| {
                f.conn()
                    .prepare("SELECT m.name, p.total FROM points p JOIN members m ON m.id = p.member_id")
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<BTreeMap<String, i64>, _>>()
                    .unwrap()
            })
            .await
            .unwrap()
    }

    async fn declaration(&self) -> cadre_model::Declaration {
        self.forum.run(|f| f.plugin_mut().unwrap().declaration().clone()).await.unwrap()
    }

    /// A community's day on the site, each webhook sent to Cadre while `up(step)` and to a closed port otherwise:
    /// a question and bob's answer, two likes, carol's answer, two likes of it, bob's answer accepted, the accept
    /// moved to carol's, then dave takes his like of carol's answer back (no webhook: Discourse has none).
    async fn day(&self, up: impl Fn(usize) -> bool) {
        let cadre = self.cadre.clone();
        let closed = down().await;
        let target = |step: usize| if up(step) { cadre.clone() } else { closed.clone() };
        let question = SimPost::new(1000, ALICE, 100, 1);
        let (bob_answer, carol_answer) = (SimPost::new(1001, BOB, 100, 2), SimPost::new(1002, CAROL, 100, 3));
        self.sim.add_post(&question);
        self.send_to(&target(0), "post_created", "post", question.created()).await;
        self.sim.add_post(&bob_answer);
        self.send_to(&target(1), "post_created", "post", bob_answer.created()).await;
        for (step, liker) in [(2, DAVE), (3, CAROL)] {
            self.sim.set_like(bob_answer.id, liker.0, true);
            self.send_to(&target(step), "post_liked", "like", bob_answer.liked(liker)).await;
        }
        self.sim.add_post(&carol_answer);
        self.send_to(&target(4), "post_created", "post", carol_answer.created()).await;
        for (step, liker) in [(5, ALICE), (6, DAVE)] {
            self.sim.set_like(carol_answer.id, liker.0, true);
            self.send_to(&target(step), "post_liked", "like", carol_answer.liked(liker)).await;
        }
        self.sim.accept(&bob_answer);
        self.send_to(&target(7), "accepted_solution", "solved", bob_answer.solved()).await;
        // Discourse sends no unaccepted_solution for bob's answer when the accept moves to carol's.
        self.sim.accept(&carol_answer);
        self.send_to(&target(8), "accepted_solution", "solved", carol_answer.solved()).await;
        self.sim.set_like(carol_answer.id, DAVE.0, false);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_accepts_likes_and_unlikes_sent_while_cadre_was_down_are_recovered_and_give_the_webhooks_points() {
    // The day with every webhook delivered (and a reconcile for the unlike, which no webhook carries).
    let reference = world().await;
    reference.day(|_| true).await;
    let conn = reference.conn();
    reconcile_all(&reference.writer().api, &reference.forum, &conn, &reference.settings, 50).await.unwrap();
    let expected = reference.points().await;
    assert_eq!(expected["carol"], 10 + 15, "alice's like and the accept that stayed (dave took his back)");

    // The same day with Cadre down after bob's answer: carol's answer, its likes and both accepts never arrive.
    let world = world().await;
    world.day(|step| step <= 3).await;
    let before = world.points().await;
    assert_eq!(before.get("carol"), None, "Cadre knows nothing of carol's answer");
    let conn = world.conn();
    let api = world.writer().api;
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    assert_eq!(
        (done.posts.posts_added, done.posts.accepts_added, done.likes.likes_added),
        (1, 1, 1),
        "carol's answer, its accept, alice's like of it (dave's was taken back before Cadre looked): {done:?}"
    );
    assert_eq!(world.points().await, expected, "the points the webhooks give");

    // A reconcile that finds nothing changes nothing; the missed webhooks, redelivered by staff, are duplicates.
    let events = world.count("SELECT COUNT(*) FROM events");
    let again = reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(world.count("SELECT COUNT(*) FROM events"), events);
    let carol_answer = SimPost::new(1002, CAROL, 100, 3);
    for (event, kind, body) in [
        ("post_created", "post", carol_answer.created()),
        ("post_liked", "like", carol_answer.liked(ALICE)),
        ("accepted_solution", "solved", carol_answer.solved()),
    ] {
        let (_, answer) = world.sim.deliver(&world.cadre, event, kind, &body).await.unwrap();
        assert_eq!(answer, json!({"duplicate": true}), "{event}");
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM events"), events);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accept_withdrawn_while_cadre_was_down_is_recorded_as_an_unaccept() {
    let world = world().await;
    world.day(|_| true).await;
    let (api, conn) = (world.writer().api, world.conn());
    // The day's unlike, which only a reconcile records.
    reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    let carol_before = world.points().await["carol"];
    // The topic's owner withdraws the accept; the unaccepted_solution webhook is lost.
    world.sim.site.lock().unwrap().solutions.clear();
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    assert_eq!((done.posts.unaccepts_added, done.likes.likes_removed), (1, 0), "{done:?}");
    assert_eq!(world.points().await["carol"], carol_before - 15, "the accept's points refunded exactly");
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_destroyed_on_discourse_while_cadre_was_down_are_recorded_as_the_webhook_records_them() {
    // What the webhooks do: the reference receives the post_destroyed deliveries.
    let reference = world().await;
    reference.day(|_| true).await;
    let world = world().await;
    world.day(|_| true).await;
    let (api, conn) = (world.writer().api, world.conn());
    for w in [&reference, &world] {
        reconcile_all(&w.writer().api, &w.forum, &w.conn(), &w.settings, 50).await.unwrap();
    }
    // dave answers too, then, with Cadre down, a moderator deletes bob's answer (trashed: staff still see it) and
    // dave's is deleted permanently. Discourse's post_destroyed deliveries fail to connect and are never retried.
    let dave_answer = SimPost::new(1003, DAVE, 100, 4);
    let bob_answer = SimPost::new(1001, BOB, 100, 2);
    let closed = down().await;
    for w in [&reference, &world] {
        w.sim.add_post(&dave_answer);
        assert!(w.send_to(&w.cadre.clone(), "post_created", "post", dave_answer.created()).await);
        w.sim.destroy(bob_answer.id, false);
        w.sim.destroy(dave_answer.id, true);
        let target = if std::ptr::eq(w, &reference) { w.cadre.clone() } else { closed.clone() };
        for post in [&bob_answer, &dave_answer] {
            let delivered = w.send_to(&target, "post_destroyed", "post", post.created()).await;
            assert_eq!(delivered, std::ptr::eq(w, &reference));
        }
    }
    let destroyed = "SELECT COUNT(*) FROM discourse_posts WHERE destroyed = 1";
    assert_eq!((reference.count(destroyed), world.count(destroyed)), (2, 0));

    let before = world.points().await;
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    assert_eq!((done.posts.missing_checked, done.posts.destroyed_added), (2, 2), "{done:?}");
    assert!(done.changed());
    assert_eq!(world.count(destroyed), 2, "both recorded as destroyed, as the webhooks record them");
    let after = world.points().await;
    assert!(after.get("bob").copied().unwrap_or(0) < before.get("bob").copied().unwrap_or(0), "{before:?} → {after:?}");
    assert_eq!(after, reference.points().await, "what the destroyed answers earned is taken back, as by the webhook");
    let before = after;

    // From now on the destroyed posts earn nothing, as after the webhook: a like given before the delete and
    // redelivered by staff is skipped.
    for w in [&reference, &world] {
        let (_, answer) = w.sim.deliver(&w.cadre, "post_liked", "like", &bob_answer.liked(ALICE)).await.unwrap();
        assert!(answer["skipped"].as_str().is_some_and(|s| s.contains("destroyed")), "{answer}");
    }
    assert_eq!(world.points().await, before);

    // Found once: the next reconcile asks for nothing and changes nothing.
    let events = world.count("SELECT COUNT(*) FROM events");
    let again = reconcile_all(&api, &world.forum, &conn, &world.settings, 50).await.unwrap();
    assert_eq!(again.posts.missing_checked, 0, "{again:?}");
    assert!(!again.changed(), "{again:?}");
    assert_eq!(world.count("SELECT COUNT(*) FROM events"), events);
}

/// Both worlds live through the day (every webhook delivered, then a full reconcile for the unlike); bob's `answer`
/// is recorded (if it is not his answer of the day); then the accept moves to it, a webhook only `reference`
/// receives, and alice and dave answer (both delivered), so the listing of the two latest posts no longer reaches
/// the answers of the accept.
async fn accept_moved_while_down(reference: &World, world: &World, bob_answer: &SimPost) {
    let closed = down().await;
    for w in [reference, world] {
        w.day(|_| true).await;
        reconcile_all(&w.writer().api, &w.forum, &w.conn(), &w.settings, 50).await.unwrap();
        if bob_answer.id != 1001 {
            w.sim.add_post(bob_answer);
            assert!(w.send_to(&w.cadre.clone(), "post_created", "post", bob_answer.created()).await);
        }
        w.sim.accept(bob_answer);
        let target = if std::ptr::eq(w, reference) { w.cadre.clone() } else { closed.clone() };
        w.send_to(&target, "accepted_solution", "solved", bob_answer.solved()).await;
        for post in [SimPost::new(1100, ALICE, 100, 4), SimPost::new(1101, DAVE, 100, 5)] {
            w.sim.add_post(&post);
            assert!(w.send_to(&w.cadre.clone(), "post_created", "post", post.created()).await);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accept_moved_or_withdrawn_on_answers_older_than_the_posts_read_is_recovered() {
    let (reference, world) = (world().await, world().await);
    accept_moved_while_down(&reference, &world, &SimPost::new(1001, BOB, 100, 2)).await;
    let (api, conn) = (world.writer().api, world.conn());
    assert_ne!(world.points().await, reference.points().await, "the moved accept was missed");

    // The two latest posts say their topic is solved, by neither of them: Cadre asks for the topic.
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 2).await.unwrap();
    assert_eq!(done.posts.listed, 2, "{done:?}");
    assert_eq!((done.posts.topics_checked, done.posts.accepts_added), (1, 1), "{done:?}");
    assert_eq!(world.points().await, reference.points().await, "bob's accept back, carol's refunded");
    let again = reconcile_all(&api, &world.forum, &conn, &world.settings, 2).await.unwrap();
    assert!(!again.changed(), "{again:?}");

    // The owner withdraws the accept while Cadre is down, then carol answers again: her post says the topic has no
    // solution, so the accept Cadre holds is withdrawn without asking.
    world.sim.site.lock().unwrap().solutions.clear();
    let carol_again = SimPost::new(1102, CAROL, 100, 6);
    world.sim.add_post(&carol_again);
    assert!(world.send_to(&world.cadre.clone(), "post_created", "post", carol_again.created()).await);
    let bob_before = world.points().await["bob"];
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 2).await.unwrap();
    assert_eq!((done.posts.topics_checked, done.posts.unaccepts_added), (0, 1), "{done:?}");
    assert_eq!(world.points().await["bob"], bob_before - 15, "the accept's points refunded exactly");
    let again = reconcile_all(&api, &world.forum, &conn, &world.settings, 2).await.unwrap();
    assert!(!again.changed(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_older_solved_plugins_accepted_answer_is_found_by_its_post_number_past_the_first_chunk() {
    let (reference, world) = (world().await, world().await);
    for w in [&reference, &world] {
        let mut site = w.sim.site.lock().unwrap();
        site.legacy_topic_view = true;
        // Twenty staff whispers in the topic (Cadre never records them): the topic's first chunk of 20 posts ends
        // before bob's second answer (post number 26), so its id is asked for by number.
        for n in 0..20 {
            let mut whisper = SimPost::new(900 + n, ALICE, 100, 6 + n);
            whisper.post_type = 4;
            site.posts.insert(whisper.id, whisper);
        }
    }
    accept_moved_while_down(&reference, &world, &SimPost::new(1050, BOB, 100, 26)).await;
    let (api, conn) = (world.writer().api, world.conn());
    let requests = world.sim.site.lock().unwrap().requests;
    let done = reconcile_all(&api, &world.forum, &conn, &world.settings, 2).await.unwrap();
    assert_eq!((done.posts.topics_checked, done.posts.accepts_added), (1, 1), "{done:?}");
    assert_eq!(world.points().await, reference.points().await);
    assert_eq!(done.posts.requests, 3, "the listing, the topic, the post by number: {done:?}");
    assert!(world.sim.site.lock().unwrap().requests > requests);
}

#[tokio::test(flavor = "multi_thread")]
async fn likes_of_a_post_with_more_likers_than_one_page_are_read_page_by_page() {
    const LIKERS: i64 = 450; // three pages of 200
    let world = world().await;
    let question = SimPost::new(1000, ALICE, 100, 1);
    let answer = SimPost::new(1001, BOB, 100, 2);
    world.send_to(&world.cadre, "post_created", "post", question.created()).await;
    world.send_to(&world.cadre, "post_created", "post", answer.created()).await;
    for user in 1000..1000 + LIKERS {
        world.sim.add_user(user, &format!("u{user}"));
        world.sim.set_like(answer.id, user, true);
    }
    let likes = "SELECT COUNT(*) FROM likes WHERE removed_at IS NULL";
    let api = world.writer().api;
    let requests = world.sim.site.lock().unwrap().requests;
    let report = reconcile_likes(&api, &world.forum, 50).await.unwrap();
    assert_eq!((report.likes_added, report.likes_removed), (LIKERS as usize, 0), "{report:?}");
    assert_eq!(world.count(likes), LIKERS);
    let sent = world.sim.site.lock().unwrap().requests - requests;
    assert_eq!(sent, 1 + 3, "one page for the question, three for the answer");

    // Unlikes on the first and the last page; then a reconcile with nothing new records nothing (reading only the
    // first page would take the other 250 likes for unlikes).
    for user in [1000, 1001, 1440, 1449] {
        world.sim.set_like(answer.id, user, false);
    }
    let report = reconcile_likes(&api, &world.forum, 50).await.unwrap();
    assert_eq!((report.likes_added, report.likes_removed), (0, 4), "{report:?}");
    let report = reconcile_likes(&api, &world.forum, 50).await.unwrap();
    assert_eq!((report.likes_added, report.likes_removed), (0, 0), "{report:?}");
    assert_eq!(world.count(likes), LIKERS - 4);
}

/// Write-back on, the day's badges and tier members sent to the simulator.
async fn granted(world: &World) {
    world.day(|_| true).await;
    world.forum.run(|f| f.set_write_back(true, 5).unwrap()).await.unwrap();
    let report = world.writer().drain(&world.conn(), &world.declaration().await).await.unwrap();
    assert_eq!(report.failed, 0);
    let site = world.sim.site.lock().unwrap();
    assert_eq!((site.badges_of("bob"), site.badges_of("carol")), (vec!["Helper".into()], vec!["Helper".into()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn badge_drift_is_repaired_both_ways_and_a_badge_granted_by_hand_is_reported_not_revoked() {
    let world = world().await;
    granted(&world).await;
    let writer = world.writer();
    let conn = world.conn();

    // Nothing drifted: nothing is queued or noticed.
    let outbox = "SELECT COUNT(*) FROM outbox";
    let rows = world.count(outbox);
    let drift = reconcile_badges(&writer.api, &conn, 6).await.unwrap();
    assert_eq!(drift, Default::default());
    assert_eq!(world.count(outbox), rows);

    // An admin revokes carol's badge by hand on Discourse.
    {
        let mut site = world.sim.site.lock().unwrap();
        let carol_grant = *site.user_badges.iter().find(|(_, (user, _))| *user == CAROL.0).unwrap().0;
        site.user_badges.remove(&carol_grant);
    }
    // A moderator takes bob's badge and tier away while write-back is off: neither revoke reaches Discourse.
    world
        .forum
        .run(move |f| {
            f.set_write_back(false, 7).unwrap();
            let bob = "(SELECT id FROM members WHERE name = 'bob')";
            f.conn().execute(&format!("DELETE FROM badges WHERE member_id = {bob}"), []).unwrap();
            f.conn().execute(&format!("DELETE FROM access WHERE member_id = {bob}"), []).unwrap();
            f.set_write_back(true, 8).unwrap();
        })
        .await
        .unwrap();
    writer.drain(&conn, &world.declaration().await).await.unwrap();
    // An admin grants the badge to dave by hand.
    {
        let mut site = world.sim.site.lock().unwrap();
        let helper = site.badge_id("Helper").unwrap();
        site.grant_by_hand(DAVE.0, helper);
    }
    assert_eq!(world.sim.site.lock().unwrap().badges_of("bob"), vec!["Helper"], "the drift: bob still has it");

    let drift = reconcile_badges(&writer.api, &conn, 9).await.unwrap();
    assert_eq!(drift.regranted, vec![("Helper".to_owned(), "carol".to_owned())]);
    assert_eq!(drift.revoked, vec![("Helper".to_owned(), "bob".to_owned())]);
    assert_eq!(drift.reported, vec![("Helper".to_owned(), "dave".to_owned())]);
    let groups = reconcile_groups(&writer.api, &conn, &world.settings.groups, 9).await.unwrap();
    assert_eq!(groups.removed, vec![("cadre-insiders".to_owned(), "bob".to_owned())], "the tier drifted the same way");
    assert!(groups.reported.is_empty() && groups.requeued.is_empty(), "{groups:?}");
    let report = writer.drain(&conn, &world.declaration().await).await.unwrap();
    assert_eq!((report.done, report.failed), (3, 0), "{report:?}");
    {
        let site = world.sim.site.lock().unwrap();
        assert_eq!(site.badges_of("carol"), vec!["Helper"], "granted again");
        assert!(site.badges_of("bob").is_empty(), "revoked as Cadre did");
        assert_eq!(site.badges_of("dave"), vec!["Helper"], "reported, not revoked");
        assert_eq!(site.group_members("cadre-insiders").into_iter().collect::<Vec<_>>(), vec!["carol"]);
    }
    let notices = "SELECT COUNT(*) FROM notices WHERE topic = 'discourse-drift' AND message LIKE 'dave holds%'";
    assert_eq!(world.count(notices), 1);

    // Once repaired, a reconcile changes nothing: no outbox row, no second notice.
    let rows = world.count(outbox);
    let drift = reconcile_badges(&writer.api, &conn, 10).await.unwrap();
    assert!(drift.regranted.is_empty() && drift.revoked.is_empty() && drift.noticed == 0, "{drift:?}");
    let groups = reconcile_groups(&writer.api, &conn, &world.settings.groups, 10).await.unwrap();
    assert_eq!(groups, Default::default());
    assert_eq!((world.count(outbox), world.count(notices)), (rows, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn group_members_and_badge_grants_longer_than_a_page_are_read_to_the_end() {
    let world = world().await;
    granted(&world).await;
    // An admin adds 1,005 people to the tier's group by hand (a page is 1,000) and grants 120 the badge (a page is
    // 50): every one is reported, none removed.
    {
        let mut site = world.sim.site.lock().unwrap();
        let helper = site.badge_id("Helper").unwrap();
        for user in 5000..6005 {
            site.users.insert(user, format!("h{user}"));
            site.groups.get_mut("cadre-insiders").unwrap().2.insert(user);
            if user < 5120 {
                site.grant_by_hand(user, helper);
            }
        }
    }
    let writer = world.writer();
    let conn = world.conn();
    let groups = reconcile_groups(&writer.api, &conn, &world.settings.groups, 9).await.unwrap();
    assert_eq!((groups.reported.len(), groups.requeued.len()), (1005, 0));
    let badges = reconcile_badges(&writer.api, &conn, 9).await.unwrap();
    assert_eq!((badges.reported.len(), badges.regranted.len(), badges.revoked.len()), (120, 0, 0), "{badges:?}");
    let site = world.sim.site.lock().unwrap();
    assert_eq!(site.group_members("cadre-insiders").len(), 1005 + 2, "bob and carol, and everyone added by hand");
}
