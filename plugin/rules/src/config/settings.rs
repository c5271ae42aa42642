//! Every setting the program understands, with its default and what it does.
//!
//! This list is what `describe` reports (the host's `cadre plugin inspect` prints it, and docs/configuring.md
//! documents it from there). A test parses each scalar default back through [`super::Config::parse`] and checks it
//! equals the built-in default, so the list cannot drift from the parser.

/// One documented setting: `(path, default as TOML, description)`.
pub type SettingDoc = (&'static str, &'static str, &'static str);

/// Every setting, in the order of the TOML document.
pub const SETTINGS: &[SettingDoc] = &[
    ("points.answer-liked", "10", "Points to an answer's author for each like it receives."),
    ("points.question-liked", "10", "Points to a question's author for each like it receives."),
    ("points.reply-liked", "2", "Points to a reply's author for each like it receives."),
    ("points.answer-accepted", "15", "Points to an answer's author when the asker accepts it."),
    ("points.accepting", "2", "Points to the asker for accepting an answer (not for accepting their own)."),
    ("points.post-created", "0", "Points to a post's author for creating it."),
    ("points.like-given", "0", "Points to a member for giving a like (capped by caps.likes-given-per-day)."),
    (
        "points.active-day",
        "0",
        "Login-style points: to a member on each UTC day they post, like or accept (never refunded).",
    ),
    (
        "caps.likes-received-per-day",
        "200",
        "Most points a member can earn from likes received per UTC day; the like that crosses it gets the part that still fits; 0 = no cap.",
    ),
    (
        "caps.likes-given-per-day",
        "20",
        "Most points a member can earn from giving likes per UTC day (partial credit as above); 0 = no cap.",
    ),
    (
        "caps.accepts-exempt",
        "true",
        "Accept points ignore the caps; false counts the answerer's against the received cap and the asker's against the given cap.",
    ),
    (
        "antigaming.pair-likes-per-day",
        "5",
        "Likes from the same liker to the same author that earn points per UTC day (later ones earn nothing); 0 = no limit.",
    ),
    (
        "antigaming.pair-likes-per-week",
        "20",
        "Likes from the same liker to the same author that earn points per rolling 7 days; 0 = no limit.",
    ),
    ("antigaming.young-liker-days", "0", "Likes from accounts younger than this many days are damped; 0 = off."),
    (
        "antigaming.young-liker-percent",
        "0",
        "The percentage of its points a young account's like still gives (to the author and to the liker).",
    ),
    (
        "antigaming.mutual-likes-flag",
        "10",
        "Tell moderators (once per pair) when two members have each liked the other's posts this many times; 0 = off.",
    ),
    (
        "review.renominate-after-days",
        "90",
        "Days after a rejected nomination, or a moderator's removal, before the member can be nominated again.",
    ),
    ("review.best-answers", "5", "How many best accepted answers (most liked first) a nomination's evidence lists."),
    (
        "badges",
        "[{ id = \"rising-star\", name = \"Rising Star\", level = \"bronze\", description = \"Earned 100 points from other members' recognition\", when = { points = 100 } }]",
        "The badges ([[badges]] tables); writing any replaces this default, `badges = []` declares none.",
    ),
    ("badges[].id", "(required)", "Stable identifier: lowercase letters, digits and -."),
    ("badges[].name", "(required)", "Display name."),
    ("badges[].level", "(required)", "\"bronze\", \"silver\" or \"gold\"."),
    ("badges[].description", "(required)", "What earns it, shown to members."),
    (
        "badges[].ladder",
        "(none)",
        "A ladder name: within a ladder each level appears once and a higher level must require strictly more of every criterion.",
    ),
    ("badges[].can-be-lost", "false", "Revoke the badge when the member no longer meets its criteria."),
    ("badges[].when.points", "(none)", "Criterion: at least this many points (all criteria of a `when` must hold)."),
    (
        "badges[].when.accepted-answers",
        "(none)",
        "Criterion: at least this many accepted answers (self-accepts and community wikis do not count).",
    ),
    (
        "badges[].when.distinct-likers",
        "(none)",
        "Criterion: at least this many different known members like their posts.",
    ),
    ("badges[].when.posts", "(none)", "Criterion: at least this many posts created."),
    (
        "badges[].when.days-active",
        "(none)",
        "Criterion: active (posted, liked or accepted) on at least this many UTC days.",
    ),
    ("badges[].when.likes-received", "(none)", "Criterion: at least this many likes received (net of removals)."),
    ("badges[].when.badges", "[]", "Criterion: holds every badge listed (ids of other [[badges]])."),
    (
        "badges[].when.external",
        "{}",
        "Criterion (contract 0.2.0): at least N external events of each kind, `{ \"event.attended\" = 3 }`, or N \
         within the last D days, `{ \"certification.passed\" = { count = 1, within-days = 730 } }`; kinds must be \
         declared in [[external]]. Tiers take the same criteria (`tiers[].when.external`).",
    ),
    ("external", "[]", "External event kinds the program knows ([[external]] tables; contract 0.2.0)."),
    ("external[].kind", "(required)", "The kind, as events carry it: `certification.passed`, `org.example/thing`."),
    ("external[].name", "(the kind)", "Display name, shown in member records and evidence."),
    ("external[].points", "0", "Points per event of this kind (rule `external:<kind>` in the ledger)."),
    ("external[].max-points-per-day", "0", "Most points per member per UTC day from this kind (0 = no cap)."),
    ("tiers", "[]", "The program's tiers ([[tiers]] tables), each tied to a private forum."),
    ("tiers[].id", "(required)", "Stable identifier: lowercase letters, digits and -."),
    ("tiers[].name", "(required)", "Display name."),
    ("tiers[].description", "(required)", "What the tier is and who qualifies, for moderators."),
    (
        "tiers[].mode",
        "\"review\"",
        "\"auto\" grants access as soon as a member qualifies; \"review\" nominates them to the moderators' queue with evidence.",
    ),
    ("tiers[].requires-tier", "(none)", "Another tier the member must already be in (earned or invited)."),
    (
        "tiers[].when",
        "(none: invitation only)",
        "Qualifying criteria, the same keys as badges[].when; without it nobody qualifies by numbers.",
    ),
    (
        "tiers[].inactivity.inactive-days",
        "0",
        "Warn moderators after this many days without activity from a member who earned the tier; 0 = never demote.",
    ),
    ("tiers[].inactivity.grace-days", "14", "Days after the warning before access is revoked (if still inactive)."),
];
