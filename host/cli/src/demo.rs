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

/// The `n`th demo topic: the first dozen as written, then help questions with distinct titles and the odd chat.
fn topic(n: usize) -> (&'static str, String, String) {
    if n <= TOPICS.len() {
        let (slug, title, body) = TOPICS[n - 1];
        return (slug, title.to_owned(), body.to_owned());
    }
    if n.is_multiple_of(4) {
        let title = CHATS[(n / 4) % CHATS.len()];
        return ("general", title.to_owned(), format!("{title} Share below — all levels welcome."));
    }
    if n % 10 == 7 {
        let title = SHOWCASE[(n / 10) % SHOWCASE.len()];
        return (
            "showcase",
            title.to_owned(),
            format!("{title}. Source and a demo inside; feedback and issues welcome."),
        );
    }
    let (problem, place) =
        (PROBLEMS[(n / SETTINGS_WHERE.len()) % PROBLEMS.len()], SETTINGS_WHERE[n % SETTINGS_WHERE.len()]);
    let body =
        format!("{problem} {place}. I followed the docs and searched the forum; what am I missing? Logs on request.");
    ("help", format!("{problem} {place}"), body)
}

const ANSWERS: [&str; 6] = [
    "Stop the node, move the database folder aside and start it again: it resyncs from peers. Your keys live elsewhere and are untouched.",
    "Check the configuration file first: most of the time the setting is simply missing. Add it, restart, and watch the log for the line that confirms it.",
    "This is a known behaviour after upgrades. Run the migration command once and the error goes away; the release notes describe it in the 'Breaking changes' section.",
    "Short answer: yes. Longer answer: look at the logs with the debug level on; they say exactly which step fails. Paste them here if it is still unclear.",
    "I had the same problem last week. Updating to the latest point release fixed it for me.",
    "Keep two copies in different places, never a photo, never in the cloud. Metal plates survive fire and water; paper is fine if you store it well.",
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
    for (slug, name) in [("general", "General"), ("help", "Help & support"), ("showcase", "Showcase")] {
        categories.insert(slug, forum.create_category(slug, name, None)?);
    }
    let insiders = forum.create_category("insiders", "Insiders lounge", Some("insiders"))?;
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
                            body: ANSWERS[rng.index(ANSWERS.len())].to_owned(),
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
                            body: ANSWERS[rng.index(ANSWERS.len())].to_owned(),
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
                        body: "Thanks, that worked!".to_owned(),
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
    fn the_demo_settings_are_valid_for_the_bundled_program() {
        let runtime = cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), None).unwrap();
        let (mut plugin, _) = runtime.load_bytes("bundled", cadre_bundled::PROGRAM_WASM).unwrap();
        let checked = plugin.check(SETTINGS).unwrap();
        assert!(checked.is_ok(), "{:?}", checked.err());
    }
}
