//! The `stackexchange` preset against a real dump: Cardano Stack Exchange (CC BY-SA 4.0, see the dump's README).
//!
//! Streams `Posts.xml` and `Votes.xml` (decompressed with `xz -dc`), maps them to forum events exactly as
//! `../shared/data/stackexchange/PRESET.md` says, runs the program over a `MemoryKv`, sums the awarded points per
//! member and compares them with `expected-points.csv` for every user: the same set of users with non-zero points,
//! and the same integer for each. Skipped, with a message, when the shared data is not present.
//!
//! The mapping: events in (vote day, vote id) order; an upvote (type 2) on a question or answer is a like with an
//! unknown liker; an accept (type 1) on an answer is an accept whose asker is the owner of the answer's question;
//! votes on posts missing from Posts.xml (deleted), and on posts that are neither questions nor answers, are skipped;
//! a post is a community wiki for a vote cast on or after the day of its `CommunityOwnedDate`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cadre_rules::model::{Accept, DAY_MS, Effect, Event, Like, PostKind};
use cadre_rules::{MemoryKv, Program, presets};

fn data_dir(site: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stackexchange").join(site)
}

/// The `<row .../>` lines of a compressed dump file.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let out = Command::new("xz").arg("-dc").arg(path).output().expect("xz runs");
    assert!(out.status.success(), "xz -dc {}", path.display());
    let text = String::from_utf8(out.stdout).expect("UTF-8 XML");
    text.lines().filter(|l| l.trim_start().starts_with("<row ")).map(attributes).collect()
}

/// `Name="value"` pairs of one row (values used here are numbers and dates, which need no unescaping).
fn attributes(line: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = line.trim_start().trim_start_matches("<row");
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim().to_string();
        let value_start = eq + 2;
        let Some(len) = rest[value_start..].find('"') else {
            break;
        };
        out.insert(name, rest[value_start..value_start + len].to_string());
        rest = &rest[value_start + len + 1..];
    }
    out
}

/// Days since 1970-01-01 of an ISO date `YYYY-MM-DD...` (Howard Hinnant's days-from-civil).
fn day(date: &str) -> i64 {
    let (y, m, d): (i64, i64, i64) =
        (date[0..4].parse().unwrap(), date[5..7].parse().unwrap(), date[8..10].parse().unwrap());
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Post {
    kind: i64,
    owner: Option<u64>,
    parent: Option<u64>,
    wiki_day: Option<i64>,
}

/// Replay a site's votes under the stackexchange preset; points per member.
fn replay(dir: &Path) -> (BTreeMap<u64, i64>, usize) {
    let num = |row: &HashMap<String, String>, key: &str| row.get(key).and_then(|v| v.parse::<i64>().ok());
    let posts: HashMap<u64, Post> = rows(&dir.join("Posts.xml.xz"))
        .iter()
        .map(|r| {
            let post = Post {
                kind: num(r, "PostTypeId").unwrap_or(0),
                owner: num(r, "OwnerUserId").map(|o| o as u64),
                parent: num(r, "ParentId").map(|p| p as u64),
                wiki_day: r.get("CommunityOwnedDate").map(|d| day(d)),
            };
            (num(r, "Id").unwrap() as u64, post)
        })
        .collect();
    let mut votes: Vec<(i64, i64, i64, u64)> = rows(&dir.join("Votes.xml.xz"))
        .iter()
        .filter_map(|r| {
            let kind = num(r, "VoteTypeId")?;
            (kind == 1 || kind == 2)
                .then(|| (day(&r["CreationDate"]), num(r, "Id").unwrap(), kind, num(r, "PostId").unwrap() as u64))
        })
        .collect();
    votes.sort();

    let program = Program::configure(presets::STACKEXCHANGE).expect("the preset parses");
    let mut kv = MemoryKv::default();
    let mut points: BTreeMap<u64, i64> = BTreeMap::new();
    let mut skipped = 0;
    for (vote_day, id, kind, post_id) in votes {
        let Some(post) = posts.get(&post_id) else {
            skipped += 1; // a vote on a deleted post
            continue;
        };
        let wiki = post.wiki_day.is_some_and(|w| vote_day >= w);
        let at = vote_day * DAY_MS;
        let event = match (kind, post.kind) {
            (2, 1 | 2) => Event::LikeAdded(Like {
                like: id as u64,
                post: post_id,
                post_kind: if post.kind == 1 { PostKind::Question } else { PostKind::Answer },
                post_author: post.owner,
                post_wiki: wiki,
                liker: None,
                liker_joined: None,
                at,
                post_category: None,
            }),
            (1, 2) => {
                let question = post.parent.unwrap_or(0);
                Event::AnswerAccepted(Accept {
                    answer: post_id,
                    answerer: post.owner,
                    answer_wiki: wiki,
                    question,
                    asker: posts.get(&question).and_then(|q| q.owner),
                    at,
                })
            }
            _ => continue, // votes on tag wikis and the like carry no points
        };
        for effect in program.handle(&mut kv, &event) {
            if let Effect::AwardPoints { member, delta, .. } = effect {
                *points.entry(member).or_default() += delta;
            }
        }
    }
    points.retain(|_, p| *p != 0);
    (points, skipped)
}

#[test]
fn the_stackexchange_preset_gives_every_cardano_user_exactly_the_expected_points() {
    let dir = data_dir("cardano.stackexchange.com");
    if !dir.join("Votes.xml.xz").exists() {
        eprintln!("skipped: no Stack Exchange data at {} (the shared data folder is not present)", dir.display());
        return;
    }
    let expected: BTreeMap<u64, i64> = std::fs::read_to_string(dir.join("expected-points.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (user, points) = l.split_once(',').unwrap();
            (user.trim().parse().unwrap(), points.trim().parse().unwrap())
        })
        .collect();
    let (actual, skipped) = replay(&dir);
    let wrong: Vec<String> = expected
        .keys()
        .chain(actual.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|user| expected.get(user) != actual.get(user))
        .map(|user| format!("user {user}: expected {:?}, got {:?}", expected.get(user), actual.get(user)))
        .collect();
    eprintln!("cardano: {} users with points, {} votes on deleted posts skipped", actual.len(), skipped);
    assert!(wrong.is_empty(), "{} of {} users differ:\n{}", wrong.len(), expected.len(), wrong.join("\n"));
}

#[test]
fn iso_dates_become_utc_day_numbers() {
    assert_eq!(day("1970-01-01T00:00:00.000"), 0);
    assert_eq!(day("2021-05-03T00:00:00.000"), 18_750);
    assert_eq!(day("2000-03-01"), 11_017);
}
