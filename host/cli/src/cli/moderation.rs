//! Moderators' commands: the review queue, members (register, show, add, remove), ledgers, the audit log, dead
//! letters, and ingesting history from another platform.

use clap::Subcommand;

use super::output::{now, print, when};
use super::{Resolved, exit, open_forum};
use cadre_core::events::Delivery;
use cadre_core::forum::ForumError;
use cadre_core::program::reports;

/// Review queue commands.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Pending nominations (with `--all`, decided ones too).
    List {
        /// Include approved and rejected nominations.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One nomination with its evidence.
    Show {
        /// The nomination id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a nomination: the member gets access to the tier's private forum.
    Approve {
        /// The nomination id.
        id: i64,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Reject a nomination.
    Reject {
        /// The nomination id.
        id: i64,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// Member commands.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Register a member (use `--moderator` for the forum's moderators).
    Register {
        /// The member's name.
        name: String,
        /// Make them a moderator.
        #[arg(long)]
        moderator: bool,
    },
    /// A member's points, badges, tier access (earned / approved / invited), nominations, program record and latest
    /// ledger lines.
    Show {
        /// A name, or an id written #3 (quoted in a shell); a bare number is an id unless a member is named so.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add (invite) a member to a tier by hand; they are marked invited, not earned.
    Add {
        /// A name, or an id written #3 (quoted in a shell); a bare number is an id unless a member is named so.
        member: String,
        /// The tier.
        #[arg(long)]
        tier: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Issue a one-time password reset link for a member who lost their password (valid 24 hours; a new link
    /// replaces the old one; audited). Needs `--as MODERATOR`. Prints the link once: pass it on privately.
    ResetLink {
        /// A name, or an id written #3 (quoted in a shell); a bare number is an id unless a member is named so.
        member: String,
        /// The forum's address, put before the link's path (for example https://forum.example).
        #[arg(long, default_value = "")]
        base: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a member from a tier.
    Remove {
        /// A name, or an id written #3 (quoted in a shell); a bare number is an id unless a member is named so.
        member: String,
        /// The tier.
        #[arg(long)]
        tier: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// Dead-letter commands.
#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// Events the program failed on, in order, with the error.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retry every dead letter in order, lift a quarantine and deliver what queued behind it.
    Retry,
}

/// Run a queue command.
pub fn queue(cli: &Resolved, command: &QueueCommand) -> anyhow::Result<u8> {
    let mut forum = super::open_existing_forum(cli)?;
    match command {
        QueueCommand::List { all, json } => {
            let rows = reports::queue(forum.conn(), *all)?;
            print(*json, &rows, |rows| {
                if rows.is_empty() {
                    return "the review queue is empty\n".into();
                }
                rows.iter()
                    .map(|n| {
                        format!(
                            "#{:<4} {:<20} {:<12} {:<9} {}\n",
                            n.id, n.member_name, n.tier, n.status, n.evidence.summary
                        )
                    })
                    .collect()
            })?;
        }
        QueueCommand::Show { id, json } => {
            let n = reports::nomination(forum.conn(), *id)?;
            print(*json, &n, |n| {
                let mut out = format!(
                    "nomination #{} — {} for {} — {}\nnominated {}\n{}\n",
                    n.id,
                    cadre_core::forum::names::label(&n.member_name, n.member_id),
                    n.tier,
                    n.status,
                    when(n.created_at),
                    n.evidence.summary
                );
                for f in &n.evidence.figures {
                    let threshold = f.threshold.map(|t| format!(" (needs {t})")).unwrap_or_default();
                    out += &format!("  {:<40} {}{threshold}\n", f.label, f.value);
                }
                if !n.evidence.posts.is_empty() {
                    out += &format!("  best posts: {:?}\n", n.evidence.posts);
                }
                for flag in &n.evidence.flags {
                    out += &format!("  FLAG: {flag}\n");
                }
                if let Some(reason) = &n.decision_reason {
                    out += &format!("decision: {reason}\n");
                }
                out
            })?;
        }
        QueueCommand::Approve { id, reason } | QueueCommand::Reject { id, reason } => {
            let approve = matches!(command, QueueCommand::Approve { .. });
            let moderator = cli.moderator(&forum)?;
            let outcome = forum.decide(moderator, *id, approve, reason, now())?;
            println!("nomination #{id} {}", if approve { "approved: access granted" } else { "rejected" });
            return Ok(program_part(&outcome));
        }
    }
    Ok(exit::OK)
}

/// Run a member command.
pub fn member(cli: &Resolved, command: &MemberCommand) -> anyhow::Result<u8> {
    // Only registering may start a new database; every other member command names someone who must exist.
    let mut forum = match command {
        MemberCommand::Register { .. } => open_forum(cli)?,
        _ => super::open_existing_forum(cli)?,
    };
    match command {
        MemberCommand::Register { name, moderator } => {
            let id = forum.register(name, now(), *moderator)?;
            let who = forum.member_label(id)?;
            println!("{who} registered{}", if *moderator { " as a moderator" } else { "" });
        }
        MemberCommand::Show { member, json } => {
            let id = reports::resolve_member(forum.conn(), member)?;
            let summary = reports::member(forum.conn(), id)?;
            let record = match forum.plugin_mut() {
                Some(plugin) => plugin.member_record(id, now())?,
                None => Vec::new(),
            };
            // The latest ledger lines, those that earned nothing (0 points, with the rule that withheld them)
            // included; `cadre ledger` prints them all.
            let ledger = reports::ledger(forum.conn(), id)?;
            let recent = &ledger[ledger.len().saturating_sub(RECENT_LEDGER_LINES)..];
            let value = serde_json::json!({ "member": summary, "record": record, "recent_ledger": recent });
            print(*json, &value, |_| {
                let mut out = format!(
                    "{}{}\njoined {}\npoints: {}\n",
                    cadre_core::forum::names::label(&summary.name, summary.id),
                    if summary.moderator { ", moderator" } else { "" },
                    when(summary.joined_at),
                    summary.points
                );
                out += &format!(
                    "badges: {}\n",
                    if summary.badges.is_empty() {
                        "none".to_owned()
                    } else {
                        summary
                            .badges
                            .iter()
                            .map(|b| format!("{} ({})", b.name, b.level))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
                for a in &summary.access {
                    out += &format!(
                        "tier {}: {} since {} — {}\n",
                        a.tier,
                        a.source.to_uppercase(),
                        when(a.granted_at),
                        a.reason
                    );
                }
                for n in &summary.pending_nominations {
                    out += &format!("pending nomination #{n}\n");
                }
                if !record.is_empty() {
                    out += "record:\n";
                    for f in &record {
                        out += &format!("  {:<44} {}\n", f.label, f.value);
                    }
                }
                if !recent.is_empty() {
                    out += &format!(
                        "ledger (the last {} of {} lines; all of them: cadre ledger {}):\n",
                        recent.len(),
                        ledger.len(),
                        summary.name
                    );
                    for r in recent {
                        out += &format!(
                            "  {:<20} {:>+7} {:>8}  {:<16} {}\n",
                            when(r.at),
                            r.delta,
                            r.total,
                            r.rule,
                            r.reason
                        );
                    }
                }
                out
            })?;
        }
        MemberCommand::ResetLink { member, base, json } => {
            let moderator = cli.moderator(&forum)?;
            let id = reports::resolve_member(forum.conn(), member)?;
            let token = cadre_web::auth::random_token();
            let issued =
                forum.batch(|forum| cadre_core::forum::recovery::issue(forum.conn(), moderator, id, &token, now()))?;
            let link = format!("{}/reset/{token}", base.trim_end_matches('/'));
            let value = serde_json::json!({ "member": issued.name, "link": link, "expires_at": issued.expires_at });
            print(*json, &value, |_| {
                format!(
                    "a one-time password reset link for {} (valid until {}; shown only now):\n{link}\n",
                    forum.member_label(id).unwrap_or_else(|_| issued.name.clone()),
                    when(issued.expires_at)
                )
            })?;
        }
        MemberCommand::Add { member, tier, reason } | MemberCommand::Remove { member, tier, reason } => {
            let add = matches!(command, MemberCommand::Add { .. });
            let moderator = cli.moderator(&forum)?;
            let id = reports::resolve_member(forum.conn(), member)?;
            let who = forum.member_label(id)?;
            let outcome = if add {
                let outcome = forum.add_member(moderator, id, tier, reason, now())?;
                println!("{who} added to {tier} (invited)");
                outcome
            } else {
                let outcome = forum.remove_member(moderator, id, tier, reason, now())?;
                println!("{who} removed from {tier}");
                outcome
            };
            return Ok(program_part(&outcome));
        }
    }
    Ok(exit::OK)
}

/// How many of the latest ledger lines `cadre member show` prints.
const RECENT_LEDGER_LINES: usize = 10;

/// `cadre ledger MEMBER`: every point change, with the running total.
pub fn ledger(cli: &Resolved, member: &str, json: bool) -> anyhow::Result<u8> {
    let forum = super::open_existing_forum(cli)?;
    let id = reports::resolve_member(forum.conn(), member)?;
    let rows = reports::ledger(forum.conn(), id)?;
    print(json, &rows, |rows| {
        let mut out = format!("{:<20} {:>7} {:>8}  {:<16} {}\n", "when", "points", "total", "rule", "reason");
        for r in rows {
            out += &format!("{:<20} {:>+7} {:>8}  {:<16} {}\n", when(r.at), r.delta, r.total, r.rule, r.reason);
        }
        out += &format!("{} row(s); total {}\n", rows.len(), rows.last().map_or(0, |r| r.total));
        out
    })?;
    Ok(exit::OK)
}

/// `cadre audit`: grants, revokes, settings, manual changes and decisions, newest first.
pub fn audit(cli: &Resolved, member: Option<&str>, limit: usize, json: bool) -> anyhow::Result<u8> {
    let forum = super::open_existing_forum(cli)?;
    let member = member.map(|m| reports::resolve_member(forum.conn(), m)).transpose()?;
    let rows = reports::audit_log(forum.conn(), member, limit)?;
    print(json, &rows, |rows| {
        rows.iter()
            .map(|r| {
                let member = r.member_id.map(|m| format!(" {}", label(&forum, m))).unwrap_or_default();
                format!("{}  {:<36} {:<20}{} {} — {}\n", when(r.at), r.actor, r.action, member, r.subject, r.reason)
            })
            .collect()
    })?;
    Ok(exit::OK)
}

/// `alice (#3)`, or `#3` if the name cannot be read.
fn label(forum: &cadre_core::Forum, member: u64) -> String {
    forum.member_label(member).unwrap_or_else(|_| format!("#{member}"))
}

/// Run a dead-letter command.
pub fn dead_letters(cli: &Resolved, command: &DeadLetterCommand) -> anyhow::Result<u8> {
    let mut forum = super::open_existing_forum(cli)?;
    match command {
        DeadLetterCommand::List { json } => {
            let rows = reports::dead_letters(forum.conn())?;
            print(*json, &rows, |rows| {
                if rows.is_empty() {
                    return "no dead letters\n".into();
                }
                rows.iter()
                    .map(|d| format!("event {:<6} {:<18} attempts {}: {}\n", d.event_id, d.kind, d.attempts, d.error))
                    .collect()
            })?;
        }
        DeadLetterCommand::Retry => {
            let (resolved, remaining) = forum.retry_dead_letters()?;
            println!("{resolved} dead letter(s) applied, {remaining} remaining");
            if remaining > 0 {
                return Ok(exit::FAILURE);
            }
            if let Some(offer) = forum.recompute_offer()? {
                println!(
                    "{} (no longer in force) handled events #{}–#{}: `cadre plugin recompute` previews recomputing \
                     them under {}, `--yes` applies it",
                    offer.rolled_back.join(", "),
                    offer.first_event,
                    offer.last_event,
                    offer.restored
                );
            }
        }
    }
    Ok(exit::OK)
}

/// `cadre ingest FILE.jsonl`.
pub fn ingest(cli: &Resolved, file: &std::path::Path, json: bool) -> anyhow::Result<u8> {
    let mut forum = open_forum(cli)?;
    let report = cadre_import::ingest::ingest(&mut forum, file)?;
    print(json, &report, |r| {
        format!(
            "{}: {} line(s), {} applied, {} already applied before\n",
            file.display(),
            r.lines,
            r.applied,
            r.already_applied
        )
    })?;
    if report.program_failures > 0 {
        // The forum kept every event; the program's part of these waits in the dead letters.
        eprintln!(
            "the program failed on {} of the {} event(s) applied; see: cadre deadletters list",
            report.program_failures, report.applied
        );
        return Ok(exit::FAILURE);
    }
    Ok(exit::OK)
}

/// `cadre notices`: messages for moderators, newest first.
pub fn notices(cli: &Resolved, limit: usize, json: bool) -> anyhow::Result<u8> {
    let forum = super::open_existing_forum(cli)?;
    let rows = reports::notices(forum.conn(), limit)?;
    print(json, &rows, |rows| {
        if rows.is_empty() {
            return "no notices\n".into();
        }
        rows.iter()
            .map(|n| {
                let member = n.member_id.map(|m| format!(" {}", label(&forum, m))).unwrap_or_default();
                format!("{}  {:<20}{} {}\n", when(n.at), n.topic, member, n.message)
            })
            .collect()
    })?;
    Ok(exit::OK)
}

/// `cadre tick`: deliver a tick (once per minute at most: the minute is its external id).
pub fn tick(cli: &Resolved) -> anyhow::Result<u8> {
    let mut forum = open_forum(cli)?;
    let at = now();
    let outcome = forum.tick(&format!("tick:{}", at / 60_000), at)?;
    println!("tick at {}: {}", when(at), describe_tick(&outcome));
    if matches!(outcome.delivery, Delivery::DeadLettered { .. }) {
        eprintln!("see: cadre deadletters list");
        return Ok(exit::FAILURE);
    }
    Ok(exit::OK)
}

/// The program's part of a moderator's action, after the forum's part is done and printed: a failure is said on
/// stderr with where to look, and is exit 1 (the action itself stands; the program's part waits as a dead letter).
fn program_part(outcome: &cadre_core::events::Outcome) -> u8 {
    match &outcome.delivery {
        Delivery::DeadLettered { error } => {
            eprintln!(
                "the program failed on this action ({}); it waits in the dead letters",
                cadre_core::forum::names::escaped(&error.to_string())
            );
            eprintln!("see: cadre deadletters list");
            exit::FAILURE
        }
        Delivery::Queued => {
            eprintln!("the program is quarantined: its part of this action waits in the queue");
            exit::OK
        }
        Delivery::Applied { .. } | Delivery::NoProgram => exit::OK,
    }
}

/// `cadre event`'s arguments.
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// The member: a name, or an id written #3.
    pub member: String,
    /// What happened: `certification.passed`, `event.attended`, `org.example/thing`.
    pub kind: String,
    /// An attribute `NAME=VALUE` (repeatable); `true`/`false` is a boolean, a whole number an integer, else text.
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    pub attributes: Vec<String>,
    /// The reporting system.
    #[arg(long, default_value = "cli")]
    pub source: String,
    /// The reporting system's id for the event: the same source and id are recorded once. Without it, the same
    /// member, kind and time are.
    #[arg(long)]
    pub id: Option<String>,
    /// When it happened (RFC 3339); default now.
    #[arg(long)]
    pub at: Option<String>,
}

/// One `--attr NAME=VALUE`, typed.
pub fn parse_attribute(text: &str) -> Result<cadre_model::Attribute, String> {
    use cadre_model::AttributeValue;
    let (name, value) =
        text.split_once('=').ok_or_else(|| format!("--attr {text:?}: expected NAME=VALUE (e.g. score=87)"))?;
    let value = match value {
        "true" => AttributeValue::Boolean(true),
        "false" => AttributeValue::Boolean(false),
        number if number.parse::<i64>().is_ok() => AttributeValue::Integer(number.parse().unwrap_or(0)),
        text => AttributeValue::Text(text.to_owned()),
    };
    Ok(cadre_model::Attribute { name: name.to_owned(), value })
}

/// `cadre event MEMBER KIND`: record an external event and say what the program made of it.
pub fn event(cli: &Resolved, args: &EventArgs) -> anyhow::Result<u8> {
    let mut forum = open_forum(cli)?;
    let member = cadre_core::forum::names::resolve_member(forum.conn(), &args.member)?;
    let at = match &args.at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp_millis())
            .map_err(|e| ForumError::Invalid(format!("--at {text:?} is not an RFC 3339 time: {e}")))?,
        None => now(),
    };
    let attributes = args
        .attributes
        .iter()
        .map(|a| parse_attribute(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ForumError::Invalid)?;
    let event = cadre_model::ExternalEvent {
        kind: args.kind.clone(),
        member,
        at,
        source: Some(args.source.clone()),
        external_id: args.id.clone(),
        attributes,
    };
    let outcome = forum.record_external(event)?;
    let who = label(&forum, member);
    if outcome.duplicate {
        println!("{} for {who} was recorded before (same source and id): nothing done", args.kind);
        return Ok(exit::OK);
    }
    match outcome.delivery {
        Delivery::Applied { effects } => println!("{} for {who}: applied, {effects} effect(s)", args.kind),
        Delivery::NoProgram => println!("{} for {who}: recorded (no program installed)", args.kind),
        Delivery::Queued => println!("{} for {who}: recorded, queued (the program is quarantined)", args.kind),
        Delivery::DeadLettered { error } => {
            eprintln!("{} for {who}: recorded, but the program failed on it: {error}", args.kind);
            eprintln!("see: cadre deadletters list");
            return Ok(exit::FAILURE);
        }
    }
    Ok(exit::OK)
}

/// What a tick's delivery means to a moderator, in words (never Rust's debug form).
fn describe_tick(outcome: &cadre_core::events::Outcome) -> String {
    use cadre_core::events::Delivery;
    if outcome.duplicate {
        return "already delivered this minute; nothing done".to_owned();
    }
    match &outcome.delivery {
        Delivery::Applied { effects: 0 } => "delivered; the program changed nothing".to_owned(),
        Delivery::Applied { effects } => format!("delivered; the program's {effects} effect(s) applied"),
        Delivery::DeadLettered { error } => {
            format!(
                "the program failed ({}); the tick waits in the dead letters",
                cadre_core::forum::names::escaped(&error.to_string())
            )
        }
        Delivery::Queued => "the program is quarantined; the tick waits in the queue".to_owned(),
        Delivery::NoProgram => "recorded; no program is installed".to_owned(),
    }
}
