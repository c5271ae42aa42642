//! The moderators' settings: the validated [`Config`] model and its TOML parser.
//!
//! A configuration is read by walking the spanned TOML tree with a [`Reader`] that records **every** problem
//! (unknown keys, wrong types, out-of-range numbers, dangling references, ladders in the wrong order) with its path
//! and line, instead of stopping at the first; errors come back sorted by line. Nothing here has side effects: a bad
//! configuration never replaces a good one because the caller only swaps in a `Config` that validated completely.
//!
//! Submodules: [`reader`] (typed access + error collection), `rules` (badges, tiers, criteria and their
//! cross-checks), [`settings`] (the documented list of every setting with its default).

mod external;
pub mod reader;
mod rules;
pub mod settings;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use toml::de::DeTable;

pub use external::{ExternalKind, ExternalReq, MAX_WINDOWED_COUNT};
pub use reader::{Reader, join, line_of};

use crate::model::{Badge, Tier};

/// One problem in a configuration, with where it is (the model's type: the host and the component speak it too).
pub use crate::model::ConfigError;

/// Points per event kind (`[points]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Points {
    /// To an answer's author per like.
    pub answer_liked: i64,
    /// To a question's author per like.
    pub question_liked: i64,
    /// To a reply's author per like.
    pub reply_liked: i64,
    /// To an answer's author when the asker accepts it.
    pub answer_accepted: i64,
    /// To the asker for accepting an answer.
    pub accepting: i64,
    /// To a post's author for creating it.
    pub post_created: i64,
    /// To the liker for giving a like (the case that gets gamed: capped by `caps.likes-given-per-day`).
    pub like_given: i64,
    /// To a member on each UTC day they are active (post, like or accept): "login-style" points.
    pub active_day: i64,
}

/// Daily caps per member per UTC day (`[caps]`); 0 means no cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Points from likes received per day.
    pub likes_received_per_day: i64,
    /// Points from likes given per day.
    pub likes_given_per_day: i64,
    /// Whether accept points are outside the caps (else the answerer's count against the received cap and the
    /// asker's against the given cap).
    pub accepts_exempt: bool,
}

/// Anti-gaming rules applied at event time (`[antigaming]`); 0 switches a rule off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntiGaming {
    /// Likes from one liker to one author that count per UTC day.
    pub pair_likes_per_day: i64,
    /// Likes from one liker to one author that count per rolling 7 days.
    pub pair_likes_per_week: i64,
    /// Likes from accounts younger than this many days are damped.
    pub young_liker_days: i64,
    /// The percentage of its points a young account's like still gives (0 = nothing).
    pub young_liker_percent: i64,
    /// Flag a pair to moderators once each has liked the other's posts this many times.
    pub mutual_likes_flag: i64,
}

/// How nominations are handled (`[review]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Days after a rejection or a removal before the member can be nominated again.
    pub renominate_after_days: i64,
    /// How many best accepted answers a nomination's evidence lists.
    pub best_answers: i64,
}

/// A number about a member that criteria can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Total points.
    Points,
    /// Accepted answers (not self-accepted, not community wiki).
    AcceptedAnswers,
    /// Distinct known members who like the member's posts.
    DistinctLikers,
    /// Posts created.
    Posts,
    /// Distinct UTC days with activity, ever.
    DaysActive,
    /// Likes received (net of removals).
    LikesReceived,
}

impl Measure {
    /// Every measure, in the order criteria list them.
    pub const ALL: [Measure; 6] = [
        Measure::Points,
        Measure::AcceptedAnswers,
        Measure::DistinctLikers,
        Measure::Posts,
        Measure::DaysActive,
        Measure::LikesReceived,
    ];

    /// The TOML key (`when.<key>`), also the figure key in evidence.
    pub fn key(self) -> &'static str {
        match self {
            Measure::Points => "points",
            Measure::AcceptedAnswers => "accepted-answers",
            Measure::DistinctLikers => "distinct-likers",
            Measure::Posts => "posts",
            Measure::DaysActive => "days-active",
            Measure::LikesReceived => "likes-received",
        }
    }

    /// A label for moderators.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Points => "Points",
            Measure::AcceptedAnswers => "Accepted answers",
            Measure::DistinctLikers => "Distinct likers",
            Measure::Posts => "Posts",
            Measure::DaysActive => "Days active",
            Measure::LikesReceived => "Likes received",
        }
    }
}

/// What a badge or tier requires: every listed minimum (AND), and every listed badge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Criteria {
    /// Minimum per measure, indexed like [`Measure::ALL`]; `None` = not required.
    pub min: [Option<i64>; 6],
    /// Badges the member must hold.
    pub badges: Vec<String>,
    /// External events the member must have had (`when.external`).
    pub external: Vec<ExternalReq>,
}

impl Criteria {
    /// The minimum required for `measure`, if any.
    pub fn get(&self, measure: Measure) -> Option<i64> {
        self.min[measure as usize]
    }
}

/// A badge and the criteria that grant it (`[[badges]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRule {
    /// The badge as declared to the host.
    pub badge: Badge,
    /// The ladder it belongs to: within a ladder, higher levels must require strictly more.
    pub ladder: Option<String>,
    /// Whether it is revoked when the member no longer meets its criteria (default: kept for good).
    pub can_be_lost: bool,
    /// When it is granted.
    pub when: Criteria,
}

/// How a tier is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Grant access as soon as the member qualifies.
    Auto,
    /// Nominate the member for the moderators' review queue, with evidence.
    Review,
}

/// When a tier's earned members lose access for inactivity (`[tiers.inactivity]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inactivity {
    /// Days without activity before moderators are warned; 0 = never demote.
    pub after_days: i64,
    /// Further days after the warning before access is revoked.
    pub grace_days: i64,
}

/// A tier and how members qualify for it (`[[tiers]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRule {
    /// The tier as declared to the host.
    pub tier: Tier,
    /// Auto-grant or review.
    pub mode: Mode,
    /// A tier the member must already be in (earned or invited).
    pub after: Option<String>,
    /// What qualifies a member.
    pub when: Criteria,
    /// Optional inactivity rule.
    pub inactivity: Inactivity,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Points per event kind.
    pub points: Points,
    /// Daily caps.
    pub caps: Caps,
    /// Anti-gaming rules.
    pub antigaming: AntiGaming,
    /// Nomination handling.
    pub review: Review,
    /// Badge rules, in declaration order.
    pub badges: Vec<BadgeRule>,
    /// Tier rules, in declaration order.
    pub tiers: Vec<TierRule>,
    /// External event kinds the program knows (`[[external]]`), in declaration order.
    pub external: Vec<ExternalKind>,
}

impl Default for Config {
    fn default() -> Self {
        Config::parse("").expect("the default configuration is valid")
    }
}

/// The largest number of points any single setting may give (keeps sums far from overflow).
const MAX_POINTS: i64 = 1_000_000;
/// The largest day count any setting accepts (about 27 years).
const MAX_DAYS: i64 = 10_000;

impl Config {
    /// Parse and validate a TOML document, reporting every problem found, sorted by line.
    pub fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(err) => {
                let line = err.span().map(|span| line_of(text, span.start));
                return Err(alloc::vec![ConfigError {
                    path: line.map(|line| reader::key_at_line(text, line)).unwrap_or_default(),
                    line,
                    message: format!("not valid TOML: {}", err.message()),
                }]);
            }
        };
        let mut r = Reader::new(text);
        let root = Some(doc.get_ref());
        r.known_keys(doc.get_ref(), "", &["points", "caps", "antigaming", "review", "badges", "tiers", "external"]);

        let t = r.table(root, "points", "points");
        if let Some(table) = t {
            let keys = &[
                "answer-liked",
                "question-liked",
                "reply-liked",
                "answer-accepted",
                "accepting",
                "post-created",
                "like-given",
                "active-day",
            ];
            r.known_keys(table, "points", keys);
        }
        let p = "points";
        let points = Points {
            answer_liked: r.int(t, "answer-liked", p, 10, 0, MAX_POINTS),
            question_liked: r.int(t, "question-liked", p, 10, 0, MAX_POINTS),
            reply_liked: r.int(t, "reply-liked", p, 2, 0, MAX_POINTS),
            answer_accepted: r.int(t, "answer-accepted", p, 15, 0, MAX_POINTS),
            accepting: r.int(t, "accepting", p, 2, 0, MAX_POINTS),
            post_created: r.int(t, "post-created", p, 0, 0, MAX_POINTS),
            like_given: r.int(t, "like-given", p, 0, 0, MAX_POINTS),
            active_day: r.int(t, "active-day", p, 0, 0, MAX_POINTS),
        };

        let t = r.table(root, "caps", "caps");
        if let Some(table) = t {
            r.known_keys(table, "caps", &["likes-received-per-day", "likes-given-per-day", "accepts-exempt"]);
        }
        let caps = Caps {
            likes_received_per_day: r.int(t, "likes-received-per-day", "caps", 200, 0, 1_000_000_000),
            likes_given_per_day: r.int(t, "likes-given-per-day", "caps", 20, 0, 1_000_000_000),
            accepts_exempt: r.boolean(t, "accepts-exempt", "caps", true),
        };

        let t = r.table(root, "antigaming", "antigaming");
        if let Some(table) = t {
            let keys = &[
                "pair-likes-per-day",
                "pair-likes-per-week",
                "young-liker-days",
                "young-liker-percent",
                "mutual-likes-flag",
            ];
            r.known_keys(table, "antigaming", keys);
        }
        let a = "antigaming";
        let antigaming = AntiGaming {
            pair_likes_per_day: r.int(t, "pair-likes-per-day", a, 5, 0, 1_000_000),
            pair_likes_per_week: r.int(t, "pair-likes-per-week", a, 20, 0, 1_000_000),
            young_liker_days: r.int(t, "young-liker-days", a, 0, 0, MAX_DAYS),
            young_liker_percent: r.int(t, "young-liker-percent", a, 0, 0, 100),
            mutual_likes_flag: r.int(t, "mutual-likes-flag", a, 10, 0, 1_000_000),
        };

        let t = r.table(root, "review", "review");
        if let Some(table) = t {
            r.known_keys(table, "review", &["renominate-after-days", "best-answers"]);
        }
        let review = Review {
            renominate_after_days: r.int(t, "renominate-after-days", "review", 90, 0, MAX_DAYS),
            best_answers: r.int(t, "best-answers", "review", 5, 0, 50),
        };

        let external = external::kinds(&mut r, doc.get_ref());
        let badges = rules::badges(&mut r, doc.get_ref(), &external);
        let tiers = rules::tiers(&mut r, doc.get_ref(), &external);
        rules::check_references(&mut r, &badges, &tiers);

        if r.errors.is_empty() {
            let badges = badges.into_iter().map(|b| b.rule).collect();
            let tiers = tiers.into_iter().map(|t| t.rule).collect();
            Ok(Config { points, caps, antigaming, review, badges, tiers, external })
        } else {
            let mut errors = r.finish();
            // Stable: the summary of errors not listed (no line) stays last.
            errors.sort_by_key(|e| e.line.unwrap_or(u32::MAX));
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests;
