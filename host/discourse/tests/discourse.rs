//! The adapter against the Discourse simulator, over real HTTP on 127.0.0.1, a real SQLite file and the real
//! bundled program component: webhooks in (signature, filters, dedup, the moved accept), points equal to Cadre's
//! own forum for the same day, and the outbox out (badges, groups, already-done answers, a crash mid-grant, the
//! shared rate limit).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cadre_core::Forum;
use cadre_core::forum::NewPost;
use cadre_discourse::api::{Api, Budget};
use cadre_discourse::outbox::Writer;
use cadre_discourse::server::{ForumThread, HookState, router};
use cadre_discourse::simulator::{SimPost, Simulator};
use cadre_discourse::{DiscourseSettings, Secret};
use cadre_model::PostKind;
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

fn open(path: &std::path::Path) -> Forum {
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let mut forum = Forum::open(path, runtime).unwrap();
    if forum.conn().query_row("SELECT COUNT(*) FROM program", [], |r| r.get::<_, i64>(0)).unwrap() == 0 {
        forum.install(cadre_bundled::PROGRAM_WASM, "test", 0).unwrap();
        forum.configure(SETTINGS, "test", 0).unwrap();
    }
    forum
}

fn points(forum: &Forum) -> BTreeMap<String, i64> {
    forum
        .conn()
        .prepare("SELECT m.name, p.total FROM points p JOIN members m ON m.id = p.member_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    sim: Simulator,
    cadre: String,
    forum: ForumThread,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cadre.db");
    open(&db);
    let sim = Simulator::start(60, Duration::from_secs(1)).await;
    let path = db.clone();
    let forum = ForumThread::spawn(move || Ok(open(&path))).unwrap();
    let settings = DiscourseSettings { url: sim.url.clone(), ..DiscourseSettings::default() };
    let state = HookState {
        forum: forum.clone(),
        settings: Arc::new(settings),
        secret: Arc::new(Secret::new(sim.secret.clone())),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cadre = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    World { _dir: dir, db, sim, cadre, forum }
}

const ALICE: (i64, &str) = (11, "alice");
const BOB: (i64, &str) = (12, "bob");
const CAROL: (i64, &str) = (13, "carol");
const DAVE: (i64, &str) = (14, "dave");

impl World {
    async fn send(&self, event: &str, event_type: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.sim.deliver(&self.cadre, event, event_type, &body).await.expect("Cadre is up")
    }

    async fn declaration(&self) -> cadre_model::Declaration {
        self.forum.run(|f| f.plugin_mut().unwrap().declaration().clone()).await.unwrap()
    }

    async fn points(&self) -> BTreeMap<String, i64> {
        self.forum.run(|forum| points(forum)).await.unwrap()
    }

    async fn events(&self) -> i64 {
        self.forum
            .run(|f| f.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap())
            .await
            .unwrap()
    }

    /// A community's day: a question, two answers, likes, an accept moved to the other answer.
    async fn day(&self) {
        let question = SimPost::new(1000, ALICE, 100, 1);
        let (bob_answer, carol_answer) = (SimPost::new(1001, BOB, 100, 2), SimPost::new(1002, CAROL, 100, 3));
        for post in [&question, &bob_answer, &carol_answer] {
            assert_eq!(self.send("post_created", "post", post.created()).await.0, 200);
        }
        for (post, liker) in [(&bob_answer, DAVE), (&bob_answer, CAROL), (&carol_answer, ALICE), (&carol_answer, DAVE)]
        {
            self.sim.set_like(post.id, liker.0, true);
            let (status, body) = self.send("post_liked", "like", post.liked(liker)).await;
            assert_eq!(status, 200, "{body}");
            assert!(body.get("recorded").is_some(), "{body}");
        }
        self.send("accepted_solution", "solved", bob_answer.solved()).await;
        // Discourse sends no unaccepted_solution for bob's answer when alice accepts carol's instead.
        self.send("accepted_solution", "solved", carol_answer.solved()).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_of_webhooks_gives_the_points_cadres_own_forum_gives_for_the_same_events() {
    let world = world().await;
    world.day().await;
    let via_discourse = world.points().await;

    // The same day in Cadre's own forum.
    let dir = tempfile::tempdir().unwrap();
    let mut own = open(&dir.path().join("own.db"));
    let ids: Vec<u64> =
        ["alice", "bob", "carol", "dave"].iter().map(|name| own.register(name, 0, false).unwrap()).collect();
    let (alice, bob, carol, dave) = (ids[0], ids[1], ids[2], ids[3]);
    let category = own.create_category("general", "General", None).unwrap();
    let post = |kind, author, parent, category| NewPost {
        kind,
        author,
        category,
        parent,
        title: (kind == PostKind::Question).then(|| "q".to_owned()),
        body: "text".into(),
        at: 1,
    };
    let q = own.create_post("q", post(PostKind::Question, alice, None, Some(category))).unwrap().0;
    let a1 = own.create_post("a1", post(PostKind::Answer, bob, Some(q), None)).unwrap().0;
    let a2 = own.create_post("a2", post(PostKind::Answer, carol, Some(q), None)).unwrap().0;
    own.like("l1", dave, a1, 2).unwrap();
    own.like("l2", carol, a1, 2).unwrap();
    own.like("l3", alice, a2, 2).unwrap();
    own.like("l4", dave, a2, 2).unwrap();
    own.accept("c1", alice, a1, 3).unwrap();
    own.unaccept("u1", alice, a1, 3).unwrap();
    own.accept("c2", alice, a2, 3).unwrap();
    assert_eq!(via_discourse, points(&own));
    assert_eq!(
        via_discourse["carol"],
        10 + 10 + 15,
        "two likes (the one she gave earns nothing), the accept that stayed"
    );
    assert_eq!(via_discourse["bob"], 20, "bob's accept was taken back when the accept moved");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signatures_malformed_bodies_unknown_events_and_redeliveries_record_nothing() {
    let world = world().await;
    let question = SimPost::new(1000, ALICE, 100, 1);
    world.send("post_created", "post", question.created()).await;
    let before = world.events().await;
    assert_eq!(before, 1);

    let body = serde_json::to_vec(&question.created()).unwrap();
    let forged = cadre_discourse::signature::sign(b"not-the-secret-at-all", &body);
    let (status, answer) =
        world.sim.deliver_raw(&world.cadre, "post_created", "post", body.clone(), Some(forged)).await.unwrap();
    assert_eq!((status, answer["error"].as_str().unwrap().contains("Signature")), (401, true));
    let (status, _) =
        world.sim.deliver_raw(&world.cadre, "post_created", "post", body, Some(String::new())).await.unwrap();
    assert_eq!(status, 401, "an unsigned delivery");

    let (status, answer) =
        world.sim.deliver_raw(&world.cadre, "post_created", "post", b"{not json".to_vec(), None).await.unwrap();
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = world.send("post_liked", "like", json!({"like": {"post": {"id": 1}}})).await;
    assert_eq!(status, 400, "a like without its fields: {answer}");
    let (status, answer) = world.send("topic_edited", "topic", json!({"topic": {}})).await;
    assert_eq!((status, answer["skipped"].is_string()), (200, true), "{answer}");

    // A redelivery (Discourse gives it a new X-Discourse-Event-Id) and a replayed like change nothing.
    let (status, answer) = world.send("post_created", "post", question.created()).await;
    assert_eq!((status, answer), (200, json!({"duplicate": true})));
    let answer_post = SimPost::new(1001, BOB, 100, 2);
    world.send("post_created", "post", answer_post.created()).await;
    world.send("post_liked", "like", answer_post.liked(DAVE)).await;
    let (_, answer) = world.send("post_liked", "like", answer_post.liked(DAVE)).await;
    assert_eq!(answer, json!({"duplicate": true}));
    assert_eq!(world.events().await, before + 2);
    assert_eq!(world.points().await.get("bob"), Some(&10), "one like, counted once");
}

#[tokio::test(flavor = "multi_thread")]
async fn private_messages_whispers_small_actions_and_destroyed_posts_earn_nothing_and_wiki_likes_earn_nothing() {
    let world = world().await;
    world.send("post_created", "post", SimPost::new(1000, ALICE, 100, 1).created()).await;
    let mut whisper = SimPost::new(1001, BOB, 100, 2);
    whisper.post_type = 4;
    let mut small = SimPost::new(1002, BOB, 100, 3);
    small.post_type = 3;
    let mut pm = SimPost::new(2000, BOB, 200, 1);
    pm.archetype = "private_message";
    for post in [&whisper, &small, &pm] {
        let (status, answer) = world.send("post_created", "post", post.created()).await;
        assert_eq!(status, 200);
        assert!(answer["skipped"].is_string(), "{answer}");
        let (_, answer) = world.send("post_liked", "like", post.liked(DAVE)).await;
        assert!(answer["skipped"].is_string(), "{answer}");
    }
    let mut wiki = SimPost::new(1003, BOB, 100, 4);
    wiki.wiki = true;
    world.send("post_created", "post", wiki.created()).await;
    world.send("post_liked", "like", wiki.liked(DAVE)).await;
    let destroyed = SimPost::new(1004, CAROL, 100, 5);
    world.send("post_created", "post", destroyed.created()).await;
    let (_, answer) = world.send("post_destroyed", "post", destroyed.created()).await;
    assert!(answer["noted"].is_string(), "{answer}");
    let (_, answer) = world.send("post_liked", "like", destroyed.liked(DAVE)).await;
    assert!(answer["skipped"].as_str().unwrap().contains("destroyed"), "{answer}");
    world.send("post_recovered", "post", destroyed.created()).await;
    world.send("post_liked", "like", destroyed.liked(DAVE)).await;
    let points = world.points().await;
    assert_eq!(points.get("bob").copied().unwrap_or(0), 0, "a wiki post's like earns nothing: {points:?}");
    assert_eq!(points.get("carol"), Some(&10), "a recovered post counts again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destroyed_answer_gives_back_its_likes_and_accept_as_a_deletion_in_cadres_forum_does_and_a_destroyed_topic_takes_its_answers()
 {
    let world = world().await;
    let question = SimPost::new(1000, ALICE, 100, 1);
    let answer = SimPost::new(1001, CAROL, 100, 2);
    let other = SimPost::new(1002, BOB, 100, 3);
    for post in [&question, &answer, &other] {
        world.send("post_created", "post", post.created()).await;
    }
    world.send("post_liked", "like", answer.liked(DAVE)).await;
    world.send("post_liked", "like", other.liked(DAVE)).await;
    world.send("accepted_solution", "solved", answer.solved()).await;
    let earned = world.points().await;
    assert!(earned.get("carol").copied().unwrap_or(0) > 10, "a like and the accept: {earned:?}");

    let (_, noted) = world.send("post_destroyed", "post", answer.created()).await;
    assert!(noted["noted"].as_str().is_some_and(|s| s.contains("2 refund event(s)")), "{noted}");
    let points = world.points().await;
    assert_eq!(points.get("carol").copied().unwrap_or(0), 0, "the like and the accept taken back: {points:?}");
    assert_eq!(points.get("bob"), earned.get("bob"), "another answer keeps its like");
    let (_, again) = world.send("post_destroyed", "post", answer.created()).await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(world.points().await, points, "a redelivery takes nothing back twice");

    // The topic's first post destroyed is the topic deleted: bob's answer in it gives back its like too.
    world.send("post_destroyed", "post", question.created()).await;
    assert_eq!(world.points().await.get("bob").copied().unwrap_or(0), 0);
}

fn writer(sim: &Simulator, per_window: u32) -> Writer {
    let api =
        Api::new(&sim.url, "system", Secret::new(sim.api_key.clone()), Budget::new(per_window, Duration::from_secs(1)))
            .unwrap();
    let groups = BTreeMap::from([("insiders".to_owned(), "cadre-insiders".to_owned())]);
    Writer { api, groups, backoff: Duration::from_millis(50) }
}

#[tokio::test(flavor = "multi_thread")]
async fn badges_and_group_membership_reach_discourse_once_and_a_crash_mid_grant_grants_nothing_twice() {
    let world = world().await;
    for user in [ALICE, BOB, CAROL, DAVE] {
        world.sim.add_user(user.0, user.1);
    }
    world.sim.add_group("cadre-insiders", false);
    // Write-back is off: the day queues nothing.
    world.day().await;
    let conn = cadre_core::db::open(&world.db).unwrap();
    let queued: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(queued, 0, "write-back stays off until a moderator turns it on");
    let w = writer(&world.sim, 60);
    assert_eq!(w.drain(&conn, &world.declaration().await).await.unwrap().done, 0);
    assert!(world.sim.site.lock().unwrap().user_badges.is_empty());

    // carol (35) and bob (20 now, 35 while his answer was accepted) hold the badge and the tier (tiers are not
    // taken back when points fall): turning write-back on sends that state.
    let queued = world.forum.run(|f| f.set_write_back(true, 5).unwrap()).await.unwrap();
    assert_eq!(queued, 4);
    // carol is already in the group by an admin's hand: Discourse answers 422, which is done.
    {
        let mut site = world.sim.site.lock().unwrap();
        site.groups.get_mut("cadre-insiders").unwrap().2.insert(CAROL.0);
    }
    let report = w.drain(&conn, &world.declaration().await).await.unwrap();
    assert_eq!((report.done, report.failed), (4, 0), "{report:?}");
    {
        let site = world.sim.site.lock().unwrap();
        assert_eq!(site.badges_of("bob"), vec!["Helper"]);
        assert_eq!(site.badges_of("carol"), vec!["Helper"]);
        assert_eq!(site.group_members("cadre-insiders").into_iter().collect::<Vec<_>>(), vec!["bob", "carol"]);
        assert_eq!(site.badges.values().next().unwrap().badge_type_id, 3, "bronze");
        assert_eq!(site.notifications, vec![], "the state at switch-on is granted and joined quietly");
    }
    // A crash after Discourse granted and before Cadre stored the grant: the row is pending again, the id unknown.
    conn.execute_batch(
        "DELETE FROM discourse_user_badges; UPDATE outbox SET state = 'pending' WHERE change = 'grant-badge';",
    )
    .unwrap();
    let report = w.drain(&conn, &world.declaration().await).await.unwrap();
    assert_eq!(report.done, 2);
    assert_eq!(world.sim.site.lock().unwrap().grants_created, 2, "each badge granted exactly once on Discourse");
    let stored: i64 = conn.query_row("SELECT COUNT(*) FROM discourse_user_badges", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 2, "the user_badge ids are known again, for a later revoke");

    // Drift: an admin removes bob from the group by hand, and adds dave, who has no tier.
    {
        let mut site = world.sim.site.lock().unwrap();
        let members = &mut site.groups.get_mut("cadre-insiders").unwrap().2;
        members.remove(&BOB.0);
        members.insert(DAVE.0);
    }
    let groups = BTreeMap::from([("insiders".to_owned(), "cadre-insiders".to_owned())]);
    let drift = cadre_discourse::reconcile::reconcile_groups(&w.api, &conn, &groups, 9).await.unwrap();
    assert_eq!(drift.requeued, vec![("cadre-insiders".to_owned(), "bob".to_owned())]);
    assert_eq!(drift.reported, vec![("cadre-insiders".to_owned(), "dave".to_owned())]);
    w.drain(&conn, &world.declaration().await).await.unwrap();
    let members: Vec<String> = world.sim.site.lock().unwrap().group_members("cadre-insiders").into_iter().collect();
    assert_eq!(members, vec!["bob", "carol", "dave"], "bob is back; dave is reported, not removed");
    let notices: i64 =
        conn.query_row("SELECT COUNT(*) FROM notices WHERE topic = 'discourse-drift'", [], |r| r.get(0)).unwrap();
    assert_eq!(notices, 1);
    let again = cadre_discourse::reconcile::reconcile_groups(&w.api, &conn, &groups, 10).await.unwrap();
    assert!(again.requeued.is_empty(), "nothing drifted since: nothing queued");
    let notices: i64 =
        conn.query_row("SELECT COUNT(*) FROM notices WHERE topic = 'discourse-drift'", [], |r| r.get(0)).unwrap();
    assert_eq!(notices, 1, "reported once");

    // A revoke: a moderator takes carol's tier away; the group follows.
    world.forum.run(|f| f.conn().execute("DELETE FROM access WHERE tier = 'insiders'", []).unwrap()).await.unwrap();
    w.drain(&conn, &world.declaration().await).await.unwrap();
    let members: Vec<String> = world.sim.site.lock().unwrap().group_members("cadre-insiders").into_iter().collect();
    assert_eq!(members, vec!["dave"], "the tier members left; the hand-added one stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_grants_at_once_stay_within_the_sites_rate_limit_and_no_request_is_refused_twice_in_a_row() {
    let world = world().await;
    const MEMBERS: i64 = 500;
    let conn = cadre_core::db::open(&world.db).unwrap();
    world.forum.run(|f| f.set_write_back(true, 0).unwrap()).await.unwrap();
    world
        .forum
        .run(|f| {
            for user in 1..=MEMBERS {
                let member = f.import_member(&format!("discourse:user:{user}"), &format!("u{user}"), 0).unwrap();
                // Names known from their webhooks, as in a running forum: one request per grant.
                cadre_discourse::tables::ensure(f.conn()).unwrap();
                cadre_discourse::tables::remember_username(f.conn(), user, &format!("u{user}")).unwrap();
                f.conn()
                    .execute(
                        "INSERT INTO badges (member_id, badge, name, level, description, granted_at) VALUES (?1, 'helper', 'Helper', 'bronze', '', 0)",
                        [member as i64],
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
    for user in 1..=MEMBERS {
        world.sim.add_user(user, &format!("u{user}"));
    }
    // Cadre's budget is more than the site's 60 a window (as if its budget were misconfigured): 429s happen, each
    // is waited out as Retry-After says, none twice in a row.
    let w = writer(&world.sim, 90);
    let started = std::time::Instant::now();
    let report = w.drain(&conn, &world.declaration().await).await.unwrap();
    let errors: Vec<String> = conn
        .prepare("SELECT DISTINCT last_error FROM outbox WHERE last_error IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(report.done as i64, MEMBERS, "{report:?} {errors:?}");
    let site = world.sim.site.lock().unwrap();
    assert_eq!(site.grants_created as i64, MEMBERS);
    assert!(site.refused > 0, "the site's limit was reached");
    assert_eq!(w.api.refused_twice.load(std::sync::atomic::Ordering::Relaxed), 0);
    // 500 grants + listing and creating the badge at 60 requests a window: 9 windows at least, and not much more.
    let elapsed = started.elapsed();
    eprintln!("500 grants in {elapsed:?}, {} refusals", site.refused);
    assert!(elapsed >= Duration::from_secs(8) && elapsed < Duration::from_secs(16), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reports_a_wrong_key_missing_or_automatic_groups_and_the_badges_it_will_create() {
    let world = world().await;
    let declaration = world.declaration().await;
    let groups = BTreeMap::from([("insiders".to_owned(), "cadre-insiders".to_owned())]);

    let wrong =
        Api::new(&world.sim.url, "system", Secret::new("wrong-key"), Budget::new(60, Duration::from_secs(1))).unwrap();
    let findings = cadre_discourse::check::check(&wrong, &declaration, &groups).await;
    assert!(!findings[0].ok && findings[0].message.contains("badges:create"), "{findings:?}");

    let w = writer(&world.sim, 60);
    let findings = cadre_discourse::check::check(&w.api, &declaration, &groups).await;
    let text: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert!(text.iter().any(|m| m.contains("\"Helper\" will be created (badge type 3)")), "{text:?}");
    assert!(findings.iter().any(|f| !f.ok && f.message.contains("\"cadre-insiders\" does not exist")), "{text:?}");

    world.sim.add_group("cadre-insiders", true);
    let findings = cadre_discourse::check::check(&w.api, &declaration, &groups).await;
    assert!(findings.iter().any(|f| !f.ok && f.message.contains("automatic")), "{findings:?}");
    assert!(world.sim.site.lock().unwrap().badges.is_empty(), "check changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn reconciliation_recovers_likes_sent_while_cadre_was_down_and_the_unlikes_discourse_never_sends() {
    let world = world().await;
    for user in [ALICE, BOB, CAROL, DAVE] {
        world.sim.add_user(user.0, user.1);
    }
    world.day().await;
    let before = world.points().await;
    let w = writer(&world.sim, 60);

    // Nothing changed on Discourse: a reconcile records nothing.
    let events = world.events().await;
    let report = cadre_discourse::reconcile::reconcile_likes(&w.api, &world.forum, 50).await.unwrap();
    assert_eq!((report.posts, report.likes_added, report.likes_removed), (3, 0, 0));
    assert_eq!(world.events().await, events, "a reconcile that finds nothing changes nothing");

    // Cadre is down: alice's like of bob's answer is delivered to a closed port, and Discourse never retries it.
    let bob_answer = SimPost::new(1001, BOB, 100, 2);
    world.sim.set_like(1001, ALICE.0, true);
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert!(world.sim.deliver(&down, "post_liked", "like", &bob_answer.liked(ALICE)).await.is_none());
    // dave takes his like of carol's answer back: Discourse sends nothing.
    world.sim.set_like(1002, DAVE.0, false);

    let report = cadre_discourse::reconcile::reconcile_likes(&w.api, &world.forum, 50).await.unwrap();
    assert_eq!((report.likes_added, report.likes_removed), (1, 1), "{report:?}");
    let after = world.points().await;
    assert_eq!(after["bob"], before["bob"] + 10, "the missed like");
    assert_eq!(after["carol"], before["carol"] - 10, "the unlike refunds exactly what the like gave");
    // The late webhook of the recovered like, if staff redeliver it, is a duplicate; a second reconcile is a no-op.
    let (_, answer) = world.send("post_liked", "like", bob_answer.liked(ALICE)).await;
    assert_eq!(answer, json!({"duplicate": true}));
    let report = cadre_discourse::reconcile::reconcile_likes(&w.api, &world.forum, 50).await.unwrap();
    assert_eq!((report.likes_added, report.likes_removed), (0, 0));
    // dave likes it again later: a new like, counted again.
    world.sim.set_like(1002, DAVE.0, true);
    let (_, answer) = world.send("post_liked", "like", SimPost::new(1002, CAROL, 100, 3).liked(DAVE)).await;
    assert!(answer["recorded"].is_number(), "{answer}");
    assert_eq!(world.points().await["carol"], before["carol"]);
}
