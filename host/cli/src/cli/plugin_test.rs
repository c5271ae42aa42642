//! `cadre plugin test COMPONENT --events FILE.jsonl [--settings FILE]`: run a component over an event file in a
//! scratch forum (a temporary database, deleted afterwards) and print what each event did — its effects, the
//! program's log lines, or why the program failed on it — then the resulting points, badges, access and
//! nominations. Exits 1 if the program failed on any event, 2 if the component, the settings or the file is refused.
//!
//! Owns the command and its report. Does not own reading the file (`cadre_import::ingest`, the same checks as
//! `cadre ingest`) or running the program (the forum's pipeline, as in production: the same validation of
//! effects, the same limits, the same dead letters).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use rusqlite::params;

use super::output::{now, when};
use super::{Resolved, exit};
use cadre_core::Forum;
use cadre_core::forum::names::member_label;

/// Who the scratch forum's audit log names as acting.
const ACTOR: &str = "cadre plugin test";

/// What one event did.
#[derive(Debug, serde::Serialize)]
struct EventReport {
    /// The event's number in the scratch forum's log.
    event: i64,
    /// Its kind (`post-created`, `like-added`, …).
    kind: String,
    /// The line of the file it came from.
    line: usize,
    /// The line's id.
    id: String,
    /// When it happened.
    at: i64,
    /// Each effect, as the forum applied it.
    effects: Vec<String>,
    /// The lines the program logged while handling it.
    log: Vec<String>,
    /// Why the program failed on it, if it did.
    error: Option<String>,
}

/// Run the command.
pub fn run(cli: &Resolved, component: &Path, events: &Path, settings: Option<&Path>, json: bool) -> anyhow::Result<u8> {
    let wasm = super::input::read_limited(component, super::input::MAX_COMPONENT_BYTES, "component")?;
    let settings = settings.map(super::input::read_settings).transpose()?;
    let scratch = tempfile::tempdir().context("creating the scratch forum's directory")?;
    let mut forum =
        Forum::open(&scratch.path().join("forum.db"), cli.runtime()?).context("opening the scratch forum")?;
    forum.install(&wasm, ACTOR, now()).with_context(|| format!("installing {}", component.display()))?;
    let program = forum.program_name().unwrap_or_default();
    if let Some(settings) = &settings {
        forum.configure(settings, ACTOR, 0).context("the settings file")?;
    }
    let lines = cadre_import::ingest::validate(&forum, events)?;
    let mut reports = Vec::new();
    for (number, line) in &lines {
        let before = last_event(&forum)?;
        cadre_import::ingest::apply_line(&mut forum, line).with_context(|| format!("{}:{number}", events.display()))?;
        let logged: Vec<String> = forum
            .plugin_mut()
            .map(|plugin| plugin.take_last_log().iter().map(|l| format!("{}: {}", l.level, l.message)).collect())
            .unwrap_or_default();
        let mut ids = event_ids(&forum, before)?;
        let last = ids.len();
        for (index, (event, kind, at)) in ids.drain(..).enumerate() {
            let error = dead_letter(&forum, event)?;
            reports.push(EventReport {
                event,
                kind,
                line: *number,
                id: line.id().to_owned(),
                at,
                effects: effects(&forum, event)?,
                // The program's log is kept for its last call: it belongs to the line's last event.
                log: if index + 1 == last { logged.clone() } else { Vec::new() },
                error,
            });
        }
    }
    let failures = reports.iter().filter(|r| r.error.is_some()).count();
    let standing = standing(&forum)?;
    if json {
        let value = serde_json::json!({
            "program": program,
            "events": reports,
            "failures": failures,
            "members": standing,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render(&program, &reports, &standing));
    }
    if failures > 0 {
        eprintln!("error: {program} failed on {failures} of {} event(s) (listed above with FAILED)", reports.len());
        return Ok(exit::FAILURE);
    }
    Ok(exit::OK)
}

fn last_event(forum: &Forum) -> anyhow::Result<i64> {
    Ok(forum.conn().query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
}

/// The events logged after `after`, in order.
fn event_ids(forum: &Forum, after: i64) -> anyhow::Result<Vec<(i64, String, i64)>> {
    let mut statement = forum.conn().prepare("SELECT id, kind, at FROM events WHERE id > ?1 ORDER BY id")?;
    let rows = statement.query_map(params![after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn dead_letter(forum: &Forum, event: i64) -> anyhow::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(forum
        .conn()
        .query_row("SELECT error FROM dead_letters WHERE event_id = ?1", params![event], |r| r.get(0))
        .optional()?)
}

/// What the forum applied for one event: ledger rows, audited grants and revokes, nominations and notices.
fn effects(forum: &Forum, event: i64) -> anyhow::Result<Vec<String>> {
    let conn = forum.conn();
    let label = |member: i64| member_label(conn, member as u64).unwrap_or_else(|_| format!("#{member}"));
    let mut out = Vec::new();
    let mut ledger =
        conn.prepare("SELECT member_id, delta, rule, reason FROM ledger WHERE event_id = ?1 ORDER BY id")?;
    for row in ledger.query_map(params![event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
        let (member, delta, rule, reason): (i64, i64, String, String) = row?;
        out.push(format!("{delta:+} {} to {} [{rule}] {reason}", points_word(delta), label(member)));
    }
    let mut audit = conn.prepare(
        "SELECT action, member_id, subject, reason FROM audit WHERE event_id = ?1 AND action <> 'nominate' ORDER BY id",
    )?;
    for row in audit.query_map(params![event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
        let (action, member, subject, reason): (String, Option<i64>, String, String) = row?;
        let whom = member.map(label).unwrap_or_default();
        out.push(format!("{action} {subject} to {whom}: {reason}"));
    }
    let mut nominations = conn.prepare("SELECT member_id, tier FROM nominations WHERE event_id = ?1 ORDER BY id")?;
    for row in nominations.query_map(params![event], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (member, tier): (i64, String) = row?;
        out.push(format!("nominate {} for {tier} (review queue)", label(member)));
    }
    let mut notices = conn.prepare("SELECT member_id, topic, message FROM notices WHERE event_id = ?1 ORDER BY id")?;
    for row in notices.query_map(params![event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        let (member, topic, message): (Option<i64>, String, String) = row?;
        let about = member.map(|m| format!(" about {}", label(m))).unwrap_or_default();
        out.push(format!("notify moderators [{topic}]{about}: {message}"));
    }
    Ok(out)
}

/// One member's standing after the file: points, badges, access, pending nominations.
#[derive(Debug, serde::Serialize)]
struct Standing {
    member: String,
    points: i64,
    badges: Vec<String>,
    access: Vec<String>,
    nominated: Vec<String>,
}

fn standing(forum: &Forum) -> anyhow::Result<Vec<Standing>> {
    let conn = forum.conn();
    let list = |sql: &str, member: i64| -> rusqlite::Result<Vec<String>> {
        conn.prepare(sql)?.query_map(params![member], |r| r.get(0))?.collect()
    };
    let mut members = conn.prepare(
        "SELECT m.id, COALESCE(p.total, 0) FROM members m LEFT JOIN points p ON p.member_id = m.id ORDER BY m.id",
    )?;
    let rows: Vec<(i64, i64)> = members.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (member, points) in rows {
        let standing = Standing {
            member: member_label(conn, member as u64)?,
            points,
            badges: list("SELECT badge FROM badges WHERE member_id = ?1 ORDER BY badge", member)?,
            access: list("SELECT tier FROM access WHERE member_id = ?1 ORDER BY tier", member)?,
            nominated: list(
                "SELECT tier FROM nominations WHERE member_id = ?1 AND status = 'pending' ORDER BY tier",
                member,
            )?,
        };
        if standing.points != 0
            || !standing.badges.is_empty()
            || !standing.access.is_empty()
            || !standing.nominated.is_empty()
        {
            out.push(standing);
        }
    }
    Ok(out)
}

fn render(program: &str, reports: &[EventReport], standing: &[Standing]) -> String {
    let mut out = format!("{program}: {} event(s)\n", reports.len());
    for report in reports {
        let _ = write!(
            out,
            "\n#{} {} (line {}, {}, {})",
            report.event,
            report.kind,
            report.line,
            report.id,
            when(report.at)
        );
        match (&report.error, report.effects.is_empty()) {
            (Some(error), _) => {
                let _ = writeln!(out, ": FAILED\n  {error}");
            }
            (None, true) => out.push_str(": no effects\n"),
            (None, false) => {
                out.push('\n');
                for effect in &report.effects {
                    let _ = writeln!(out, "  {effect}");
                }
            }
        }
        for line in &report.log {
            let _ = writeln!(out, "  log {line}");
        }
    }
    out.push_str("\nafter the file:\n");
    if standing.is_empty() {
        out.push_str("  no member has points, badges, access or a nomination\n");
    }
    for s in standing {
        let _ = write!(out, "  {}: {} {}", s.member, s.points, points_word(s.points));
        for (what, list) in [("badges", &s.badges), ("access", &s.access), ("nominated for", &s.nominated)] {
            if !list.is_empty() {
                let _ = write!(out, "; {what} {}", list.join(", "));
            }
        }
        out.push('\n');
    }
    out
}

/// "point" for one, "points" otherwise.
fn points_word(n: i64) -> &'static str {
    if n.abs() == 1 { "point" } else { "points" }
}
