//! The demo community `cadre serve --demo` starts with: thirty-odd members, topics across three public
//! categories, a private Insiders category, and six weeks of questions, answers, likes and accepts — all fed
//! through the forum's event pipeline, so the program really scored them: badges are granted, two experts wait
//! in the review queue, and one (alice) was approved by the moderator and already posts in the private forum.
//!
//! Deterministic (a fixed-seed generator), so the demo and the tests built on it always look the same.

use crate::rng::Rng;
use cadre_core::Forum;
use cadre_core::forum::{ForumError, MemberId, NewPost};
use cadre_model::PostKind;

/// The demo program's settings: the bundled program with thresholds a six-week-old community can reach.
pub const SETTINGS: &str = r#"# Demo settings: an Insiders programme with review, and badges a small community can earn.
[points]
answer-liked = 10
question-liked = 5
reply-liked = 1
answer-accepted = 15
accepting = 2

[caps]
likes-received-per-day = 100
accepts-exempt = true

[antigaming]
pair-likes-per-day = 3
pair-likes-per-week = 10

[review]
renominate-after-days = 90

[[badges]]
id = "helpful"
name = "Helpful"
level = "bronze"
description = "Wrote an answer the asker accepted"
when = { accepted-answers = 1 }

[[badges]]
id = "well-liked"
name = "Well liked"
level = "silver"
description = "Liked by 5 different members"
when = { distinct-likers = 5 }

[[badges]]
id = "expert"
name = "Expert"
level = "gold"
description = "10 accepted answers, liked by 12 different members"
when = { accepted-answers = 10, distinct-likers = 12 }

[[tiers]]
id = "insiders"
name = "Insiders"
description = "Vetted experts: 6 accepted answers, 8 distinct likers, 250 points. Opens the private Insiders forum."
mode = "review"
when = { accepted-answers = 6, distinct-likers = 8, points = 250 }
"#;

/// The password of every demo login.
pub const PASSWORD: &str = "cadre-demo";

/// The demo logins: (name, what they show).
pub const LOGINS: [(&str, &str); 4] = [
    ("mod", "a moderator: the panel at /mod (settings, review queue, members, audit)"),
    ("alice", "an approved insider: sees the private Insiders category"),
    ("dave", "an expert waiting in the review queue"),
    ("bob", "an ordinary member: asks questions, sees no private forum"),
];

const EXPERTS: [&str; 3] = ["alice", "dave", "erin"];
const OTHERS: [&str; 28] = [
    "bob", "carmen", "frank", "grace", "heidi", "ivan", "judy", "kofi", "lena", "mallory", "nadia", "oscar", "peggy",
    "quinn", "rupert", "sybil", "trent", "uma", "victor", "wendy", "xavier", "yara", "zane", "amir", "bea", "chen",
    "dara", "emil",
];

const TOPICS: [(&str, &str, &str); 12] = [
    (
        "help",
        "How do I reset my node's sync state?",
        "My node stopped syncing at block 8,120,433. I tried restarting it twice. What is the clean way to resync without losing my keys?",
    ),
    (
        "help",
        "Which port does the wallet use?",
        "The firewall on our office network blocks most ports. Which ones must be open for the desktop wallet?",
    ),
    (
        "help",
        "Transaction stuck as pending for hours",
        "I sent a transaction this morning and it is still pending. The fee looked normal. Can I cancel it?",
    ),
    ("general", "What are you building this month?", "Share what you are working on — side projects welcome."),
    ("general", "Best resources for learning smart contracts?", "I know some Rust and Python. Where should I start?"),
    (
        "help",
        "Error: 'insufficient collateral' when delegating",
        "Delegation fails with 'insufficient collateral'. My balance is 1,200. What is the collateral about?",
    ),
    (
        "showcase",
        "A dashboard for stake pool operators",
        "I built a small dashboard that shows pool saturation and missed blocks. Feedback welcome!",
    ),
    (
        "help",
        "How to back up a hardware wallet safely?",
        "What is the recommended way to keep the recovery phrase? Paper, metal, something else?",
    ),
    ("general", "Meetup in Lisbon next month?", "Anyone interested in a community meetup in Lisbon?"),
    (
        "help",
        "CLI says 'unknown era' after upgrade",
        "After upgrading the node the CLI prints 'unknown era' for every query.",
    ),
    (
        "showcase",
        "Open-source tipping bot for our chat",
        "A tipping bot for community chats, MIT licensed. Try it and tell me what breaks.",
    ),
    (
        "help",
        "How are rewards calculated per epoch?",
        "I see different reward numbers every epoch. What goes into the calculation?",
    ),
];

/// Help questions after the first dozen: a problem in a setting (16 × 6 distinct titles).
const PROBLEMS: [&str; 16] = [
    "Node stops syncing",
    "Wallet shows the wrong balance",
    "Delegation fails with 'insufficient collateral'",
    "CLI prints 'unknown era'",
    "Transaction stuck as pending",
    "Rewards look lower than expected",
    "Hardware wallet not detected",
    "Metadata does not show up",
    "Pool registration rejected",
    "Fees higher than the estimate",
    "Cannot restore from the recovery phrase",
    "Port 3001 blocked",
    "Minted token not visible",
    "'Stake key already registered'",
    "Memory use grows until the node crashes",
    "Testnet faucet returns an error",
];
const SETTINGS_WHERE: [&str; 6] =
    ["after upgrading to 9.2", "on a Raspberry Pi", "in Docker", "on macOS", "with a Ledger", "on the testnet"];
const CHATS: [&str; 8] = [
    "Weekly thread: what did you ship?",
    "Favourite block explorer?",
    "Study group for Plutus, anyone?",
    "How do you explain staking to friends?",
    "Community call notes",
    "Which wallet do you use and why?",
    "Ideas for the next hackathon",
    "Books that changed how you code",
];

const SHOWCASE: [&str; 8] = [
    "A CLI that checks your pool's KES expiry",
    "Grafana dashboards for relays",
    "Tiny wallet in 300 lines of Rust",
    "Browser extension that labels known addresses",
    "Testnet transaction replayer",
    "Metadata viewer for NFTs",
    "Telegram bot for epoch summaries",
    "Open-source stake calculator",
];

/// What each help problem looks like in practice (the body of its question, never its title again).
const PROBLEM_DETAILS: [&str; 16] = [
    "The tip stays at the same slot for an hour and the peers list is empty after a restart.",
    "The desktop app says 1,240 but the explorer shows 1,310 for the same address.",
    "The CLI rejects the certificate and names collateral, though my balance covers the deposit twice over.",
    "Every query answers with the same error and nothing else changes in the output.",
    "My transfer has shown as pending since this morning; the fee was the suggested one.",
    "Last epoch paid about a third of what the calculator promised for my stake.",
    "The device unlocks fine but the app lists no device; another USB cable did not help.",
    "I attach metadata when minting and the explorer shows none of it.",
    "The registration transaction goes through but the pool never appears in the list.",
    "The wallet quoted 0.17 and charged 0.31 once the transaction was signed.",
    "The restore screen accepts the words and then shows an empty wallet.",
    "Relays cannot reach the core node unless I open everything on the firewall.",
    "The mint succeeded according to the log, yet the wallet lists no new asset.",
    "Registering the stake key fails, although I never registered it before.",
    "Resident memory climbs by about 200 MB an hour until the kernel kills the process.",
    "The faucet page answers 'request failed' for every address I paste.",
];
/// Where it happens (added to the question, in other words than the title's).
const PLACE_DETAILS: [&str; 6] = [
    "It started right after I upgraded to 9.2 yesterday.",
    "This is a Raspberry Pi 4 with 8 GB and an SSD over USB.",
    "Everything runs in Docker with the official image and a named volume.",
    "I am on macOS 15 with the app from the website.",
    "I sign with a Ledger Nano S Plus, firmware up to date.",
    "All of this is on the public testnet, not mainnet.",
];
/// The chat threads' opening posts.
const CHAT_BODIES: [&str; 8] = [
    "Post one thing you finished this week, however small. I got the relay alerts working at last.",
    "I keep switching between two. Which one do you trust, and why that one?",
    "A few of us want to go through the Plutus pioneer lectures together, one a week. Who is in?",
    "My family still thinks staking means lending my coins away. How do you put it?",
    "Notes from Tuesday's call: release timeline, the docs sprint, and the meetup plans.",
    "Hardware, mobile or browser extension? Tell us what you use day to day.",
    "Collecting ideas for the spring hackathon: tooling, education, anything that helps newcomers.",
    "Mine is 'A Philosophy of Software Design'. What changed the way you write code?",
];
/// The showcase threads' opening posts.
const SHOWCASE_BODIES: [&str; 8] = [
    "It reads the operational certificate and warns a week before the KES period runs out. One binary, no daemon.",
    "Panels for relay latency, peers and block propagation, exported as JSON you can import in a minute.",
    "Keys, addresses and a signed transfer in 300 lines, no dependencies beyond the standard library and ed25519.",
    "Hover an address on any explorer and see the exchange or pool it belongs to. Labels come from a public list.",
    "Record a day of testnet transactions and replay them against your own node to test an upgrade.",
    "Paste a policy id and see every asset with its metadata rendered, images included.",
    "Posts the epoch's blocks, rewards and saturation to a channel every five days.",
    "Enter a stake and a pool, get an honest range of rewards with the assumptions written out.",
];

/// The `n`th demo topic: the first dozen as written, then help questions with distinct titles and the odd chat.
/// Returns the category, the title, the body and the subject answers speak of.
fn topic(n: usize) -> (&'static str, String, String) {
    if n <= TOPICS.len() {
        let (slug, title, body) = TOPICS[n - 1];
        return (slug, title.to_owned(), body.to_owned());
    }
    if n.is_multiple_of(4) {
        let i = (n / 4) % CHATS.len();
        return ("general", CHATS[i].to_owned(), CHAT_BODIES[i].to_owned());
    }
    if n % 10 == 7 {
        let i = (n / 10) % SHOWCASE.len();
        return ("showcase", SHOWCASE[i].to_owned(), SHOWCASE_BODIES[i].to_owned());
    }
    let (p, w) = ((n / SETTINGS_WHERE.len()) % PROBLEMS.len(), n % SETTINGS_WHERE.len());
    let body = format!(
        "{} {} I followed the docs and searched the forum first; logs on request.",
        PROBLEM_DETAILS[p], PLACE_DETAILS[w]
    );
    ("help", format!("{} {}", PROBLEMS[p], SETTINGS_WHERE[w]), body)
}

/// Answers, in different voices: some with commands in code blocks, some with links. A topic's answers each take
/// a different one ([`answer`]), so no two answers in a topic are the same.
const ANSWERS: [&str; 12] = [
    "Stop the node, move the database folder aside and start it again: it resyncs from peers. Your keys live elsewhere and are untouched.",
    "Check the configuration file first: most of the time the setting is simply missing.\n\n```sh\ngrep -n 'EnableP2P' config.json\n```\n\nAdd it if it is not there, restart, and watch the log for the line that confirms it.",
    "This is a known behaviour after upgrades. Run the migration once and the error goes away:\n\n```sh\ncardano-node migrate --database-path db/\n```\n\nThe [release notes](https://docs.example.org/releases/9.2#breaking-changes) describe it under *Breaking changes*.",
    "Turn the log level up to debug; it says exactly which step fails. Paste the last twenty lines here if it is still unclear.",
    "I had the same problem last week. Updating to the latest point release fixed it for me — the changelog mentions it as a fix in 9.2.1.",
    "Two things to rule out first:\n\n1. the clock: `timedatectl` must say *synchronized: yes*;\n2. disk space: the ledger snapshot needs about 30 GB free.\n\nBoth cause exactly this.",
    "The [troubleshooting guide](https://docs.example.org/troubleshooting) has a section on this. In short: the wallet caches the old state, so clear its cache from *Settings → Advanced* and let it reload.",
    "Look at what the node actually sees:\n\n```sh\ncardano-cli query tip --mainnet\n```\n\nIf `syncProgress` is below 100 the wallet is simply behind; give it time before changing anything.",
    "Not a bug, unfortunately: it is how the protocol works. The deposit comes back when you deregister, so nothing is lost.",
    "On Docker, mount the database on a named volume rather than a bind mount; bind mounts on macOS are slow enough to time out. `docker volume create node-db` and point the service at it.",
    "Your firewall is the likely culprit. Open the node port only between your relays and the core:\n\n```sh\nufw allow from 10.0.0.0/24 to any port 3001 proto tcp\n```",
    "I asked the same thing on the [developer portal](https://developers.example.org/forum) a while ago; the short version is that explorers index metadata lazily, so it can take an epoch to appear.",
];

/// The answer the `k`th answerer of topic `n` writes: different for each `k` within a topic (7 is coprime with 12,
/// so `k = 0..12` give twelve different answers). `_draw` is the generator's draw the demo made here when answers
/// were picked at random: still drawn, so who answers, likes and accepts stays as before.
fn answer(n: usize, k: usize, _draw: usize) -> String {
    ANSWERS[(n * 5 + k * 7) % ANSWERS.len()].to_owned()
}

/// The asker's thanks under an answer, in a few forms.
const THANKS: [&str; 4] = [
    "Thanks, that worked!",
    "That was it. The log even said so once I knew where to look.",
    "Worked after a restart, thank you. Marking this as accepted.",
    "Perfect — I had missed that step in the docs.",
];

/// Who is who in the demo.
pub struct Demo {
    /// The moderator.
    pub moderator: MemberId,
    /// Every member by name.
    pub members: Vec<(String, MemberId)>,
}

const DAY: i64 = 86_400_000;

/// Fill an empty forum (program installed) with the demo community, ending at `now`. Passwords are set for the
/// [`LOGINS`] by `set_password` (argon2: slow on purpose, so only four).
pub fn fill(
    forum: &mut Forum,
    now: i64,
    set_password: impl Fn(&Forum, MemberId) -> Result<(), ForumError>,
) -> Result<Demo, ForumError> {
    let start = now - 42 * DAY;
    forum.configure(SETTINGS, "system (demo)", start)?;
    let moderator = forum.register("mod", start - 90 * DAY, true)?;
    let mut members = vec![("mod".to_owned(), moderator)];
    for (i, name) in EXPERTS.iter().chain(OTHERS.iter()).enumerate() {
        let id = forum.register(name, start - (60 - i as i64) * DAY, false)?;
        members.push(((*name).to_owned(), id));
    }
    for (name, id) in &members {
        if LOGINS.iter().any(|(login, _)| login == name) {
            set_password(forum, *id)?;
        }
    }
    let id_of = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, id)| *id).expect("a demo member");
    let mut categories = std::collections::HashMap::new();
    for (slug, name, description, colour) in [
        ("general", "General", "Introductions, weekly threads and anything that fits nowhere else.", "blue"),
        ("help", "Help & support", "Stuck? Ask here: nodes, wallets, staking, the command line.", "green"),
        ("showcase", "Showcase", "Show what you built and get feedback from the community.", "orange"),
    ] {
        categories.insert(slug, forum.create_category(slug, name, None)?);
        cadre_core::forum::categories::set_look(forum.conn(), slug, description, colour)?;
    }
    let insiders = forum.create_category("insiders", "Insiders lounge", Some("insiders"))?;
    cadre_core::forum::categories::set_look(
        forum.conn(),
        "insiders",
        "For insiders: early builds, the roadmap, a direct line to the team.",
        "purple",
    )?;
    let mut rng = Rng::new(0x5EED_CAD5E);
    let experts: Vec<MemberId> = EXPERTS.iter().map(|n| id_of(n)).collect();
    let others: Vec<MemberId> = OTHERS.iter().map(|n| id_of(n)).collect();
    let bob = id_of("bob");
    let mut n = 0;
    forum.batch(|forum| {
        for day in 0..40 {
            for slot in 0..2 {
                n += 1;
                let at = start + day * DAY + (slot * 5 + 2) * 3_600_000;
                let (slug, title, body) = topic(n);
                // Bob never answers: he asks (so the browser test can find his open question).
                let asker = if n % 5 == 0 { bob } else { others[1 + rng.index(others.len() - 1)] };
                let question = NewPost {
                    kind: PostKind::Question,
                    author: asker,
                    category: Some(categories[slug]),
                    parent: None,
                    title: Some(title),
                    body: body.to_owned(),
                    at,
                };
                let (q, _) = forum.create_post(&format!("demo:q{n}"), question)?;
                // Erin starts late (so she is still below the tier on some measures) and alice leads.
                let mut answers = Vec::new();
                for (e, expert) in experts.iter().enumerate() {
                    if rng.index(10) < [8, 6, 5][e] && !(e == 2 && day < 10) {
                        let answer = NewPost {
                            kind: PostKind::Answer,
                            author: *expert,
                            category: None,
                            parent: Some(q),
                            title: None,
                            body: answer(n, e, rng.index(6)),
                            at: at + (e as i64 + 1) * 1_800_000,
                        };
                        answers.push((*expert, forum.create_post(&format!("demo:a{n}-{e}"), answer)?.0));
                    }
                }
                if rng.index(3) == 0 {
                    let helper = others[1 + rng.index(others.len() - 1)];
                    if helper != asker {
                        let answer = NewPost {
                            kind: PostKind::Answer,
                            author: helper,
                            category: None,
                            parent: Some(q),
                            title: None,
                            body: answer(n, 3, rng.index(6)),
                            at: at + 3 * 3_600_000,
                        };
                        answers.push((helper, forum.create_post(&format!("demo:a{n}-o"), answer)?.0));
                    }
                }
                for (i, (_, answer)) in answers.iter().enumerate() {
                    for l in 0..(1 + rng.index(4)) {
                        let liker = others[rng.index(others.len())];
                        let _ = forum.like(
                            &format!("demo:l{n}-{i}-{l}"),
                            liker,
                            *answer,
                            at + 5 * 3_600_000 + l as i64 * 60_000,
                        );
                    }
                }
                let _ = forum.like(&format!("demo:lq{n}"), others[rng.index(others.len())], q, at + 6 * 3_600_000);
                // Most askers accept an answer, and usually the first (an expert's). Bob leaves his latest open.
                if !answers.is_empty() && rng.index(10) < 8 && !(asker == bob && day > 30) {
                    let (_, chosen) = answers[if rng.index(4) == 0 { answers.len() - 1 } else { 0 }];
                    forum.accept(&format!("demo:x{n}"), asker, chosen, at + 8 * 3_600_000)?;
                }
                if day % 3 == 0 && slot == 0 && answers.len() > 1 {
                    let reply = NewPost {
                        kind: PostKind::Reply,
                        author: asker,
                        category: None,
                        parent: Some(answers[0].1),
                        title: None,
                        body: THANKS[n % THANKS.len()].to_owned(),
                        at: at + 9 * 3_600_000,
                    };
                    forum.create_post(&format!("demo:r{n}"), reply)?;
                }
            }
        }
        Ok(())
    })?;
    // The moderator approves alice's nomination; the others wait in the queue.
    let alice = id_of("alice");
    let nomination: Option<i64> = forum
        .conn()
        .query_row("SELECT id FROM nominations WHERE member_id = ?1 AND status = 'pending'", [alice as i64], |row| {
            row.get(0)
        })
        .ok();
    let approved_at = now - 2 * DAY;
    match nomination {
        Some(id) => forum.decide(
            moderator,
            id,
            true,
            "Consistently accepted answers in Help; vetted by the team",
            approved_at,
        )?,
        None => forum.add_member(moderator, alice, "insiders", "Demo: invited as a founding insider", approved_at)?,
    };
    for (i, (title, body, author)) in [
        (
            "Welcome to the Insiders lounge",
            "This space is for our insiders: early builds, roadmap questions, and a direct line to the team.",
            moderator,
        ),
        (
            "Preview: the next node release",
            "Release candidate notes are pinned here. What should we test first?",
            moderator,
        ),
        (
            "Idea: a mentoring rota for new members",
            "Could insiders take turns answering the oldest unanswered questions each week?",
            alice,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let post = NewPost {
            kind: PostKind::Question,
            author,
            category: Some(insiders),
            parent: None,
            title: Some(title.to_owned()),
            body: body.to_owned(),
            at: now - DAY + i as i64 * 3_600_000,
        };
        forum.create_post(&format!("demo:insiders{i}"), post)?;
    }
    Ok(Demo { moderator, members })
}

/// What `cadre serve` does before serving: install the bundled program if none is installed, fill the demo if
/// asked and the forum has no members yet, make sure there is a category to post in. Returns what it did, to print.
pub fn prepare(forum: &mut Forum, want_demo: bool) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    let mut notes = Vec::new();
    let now = cadre_web::auth::now_ms();
    if forum.program_name().is_none() {
        let at = if want_demo { now - 43 * DAY } else { now };
        forum
            .install(cadre_bundled::PROGRAM_WASM, "system (cadre serve)", at)
            .context("installing the bundled program")?;
        notes.push(format!("Installed the bundled program {}", forum.program_name().unwrap_or_default()));
    }
    let members: i64 = forum.conn().query_row("SELECT COUNT(*) FROM members", [], |row| row.get(0))?;
    if want_demo && members == 0 {
        let started = std::time::Instant::now();
        fill(forum, now, |forum, member| {
            cadre_web::auth::set_password(forum.conn(), member, PASSWORD)
                .map_err(|e| ForumError::Invalid(e.to_string()))
        })
        .context("filling the demo community")?;
        let events: i64 = forum.conn().query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))?;
        notes.push(format!("Filled the demo community: {events} events in {:.1?}", started.elapsed()));
    } else if want_demo {
        notes.push("The database already has members: the demo was not added again.".to_owned());
    }
    let categories: i64 = forum.conn().query_row("SELECT COUNT(*) FROM categories", [], |row| row.get(0))?;
    if categories == 0 {
        forum.create_category("general", "General", None)?;
        notes.push("Created the category General".to_owned());
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_topics_read_like_a_real_forum_no_repeated_answers_no_title_as_body_some_code_and_links() {
        let runtime = cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), None).unwrap();
        let conn = cadre_core::db::open_in_memory().unwrap();
        let mut forum = Forum::with_connection(conn, runtime).unwrap();
        forum.install(cadre_bundled::PROGRAM_WASM, "test", 0).unwrap();
        fill(&mut forum, 100 * DAY, |_, _| Ok(())).unwrap();
        let posts: Vec<(i64, String, i64, Option<String>, String)> = forum
            .conn()
            .prepare("SELECT id, kind, topic_id, title, body FROM posts ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut answers_by_topic: std::collections::HashMap<i64, Vec<&str>> = Default::default();
        for (_, kind, topic, title, body) in &posts {
            if let Some(title) = title {
                assert!(!body.contains(title.as_str()), "the body repeats the title {title:?}: {body:?}");
            }
            if kind == "answer" {
                answers_by_topic.entry(*topic).or_default().push(body);
            }
        }
        for (topic, answers) in &answers_by_topic {
            let distinct: std::collections::HashSet<&&str> = answers.iter().collect();
            assert_eq!(distinct.len(), answers.len(), "topic {topic} has two identical answers: {answers:?}");
        }
        let questions: Vec<&String> = posts.iter().filter(|p| p.1 == "question").map(|p| &p.4).collect();
        let distinct: std::collections::HashSet<&&String> = questions.iter().collect();
        assert!(
            distinct.len() * 10 >= questions.len() * 8,
            "questions vary: {} of {}",
            distinct.len(),
            questions.len()
        );
        let code = posts.iter().filter(|p| p.4.contains("```")).count();
        let links = posts.iter().filter(|p| p.4.contains("](https://")).count();
        assert!(code >= 10 && links >= 10, "{code} posts with code blocks, {links} with links");
        assert!(answers_by_topic.values().filter(|a| a.len() > 1).count() > 20, "many topics with several answers");
    }

    #[test]
    fn the_demo_settings_are_valid_for_the_bundled_program() {
        let runtime = cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), None).unwrap();
        let (mut plugin, _) = runtime.load_bytes("bundled", cadre_bundled::PROGRAM_WASM).unwrap();
        let checked = plugin.check(SETTINGS).unwrap();
        assert!(checked.is_ok(), "{:?}", checked.err());
    }
}
