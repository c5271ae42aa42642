//! What the moderator panel reads and does, shared by its HTML pages and its JSON API: program status with dead
//! letters, the review queue with evidence, the members with tier access (invited apart from earned), one
//! member's record and ledger, the audit log, checking and applying settings, deciding nominations, adding and
//! removing members, retrying dead letters. Every function takes the acting moderator (`Who::moderator` has
//! already turned everyone else away with a not-found). The rows come from `program::reports`.

use rusqlite::params;
use serde::Serialize;

use super::AppState;
use super::auth::{Member, now_ms};
use super::error::WebError;
use cadre_core::Forum;
use cadre_core::events::Preview;
use cadre_core::forum::read::{self, Category};
use cadre_core::forum::visibility::Viewer;
use cadre_core::program::outbox::{OutboxCounts, OutboxFailure};
use cadre_core::program::reports::{
    self, AuditRow, DeadLetter, LedgerRow, MemberSummary, Nomination, Notice, ProgramStatus,
};
use cadre_model::{ConfigError, Figure, Tier};

/// Longest settings text accepted (the presets are ~3 KiB).
pub const MAX_SETTINGS: usize = 64 << 10;
/// Longest reason accepted for a moderator's decision.
pub const MAX_REASON: usize = 1000;
/// Notices shown on the status page.
pub const NOTICES: usize = 20;
/// Audit rows shown on one page.
pub const AUDIT_PAGE: usize = 200;

async fn run<R: Send + 'static>(
    state: &AppState,
    job: impl FnOnce(&mut Forum) -> Result<R, WebError> + Send + 'static,
) -> Result<R, WebError> {
    state.forum.run(job).await?
}

/// The panel's front page.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The installed program, if any.
    pub program: Option<ProgramStatus>,
    /// Unresolved dead letters.
    pub dead_letters: Vec<DeadLetter>,
    /// The tiers the settings declare.
    pub tiers: Vec<Tier>,
    /// Pending nominations.
    pub pending: usize,
    /// The latest messages for moderators (quarantines, gaming flags, inactivity warnings).
    pub notices: Vec<Notice>,
    /// The write-back outbox to another platform (Discourse), when write-back is on or anything is queued.
    pub outbox: Option<Outbox>,
}

/// The write-back outbox as moderators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Outbox {
    /// Whether grants are being mirrored now.
    pub enabled: bool,
    /// Rows pending, done and failed.
    pub counts: OutboxCounts,
    /// The changes given up on, with their last error (the oldest 50).
    pub failed: Vec<OutboxFailure>,
}

/// How many failed outbox rows the status page lists.
const OUTBOX_FAILURES: usize = 50;

fn outbox(forum: &Forum) -> Result<Option<Outbox>, WebError> {
    let (enabled, counts) = (forum.write_back_enabled()?, forum.outbox_counts()?);
    if !enabled && counts == OutboxCounts::default() {
        return Ok(None);
    }
    Ok(Some(Outbox { enabled, counts, failed: forum.outbox_failures(OUTBOX_FAILURES)? }))
}

fn tiers(forum: &mut Forum) -> Vec<Tier> {
    forum.plugin_mut().map(|p| p.declaration().tiers.clone()).unwrap_or_default()
}

/// Program status, dead letters, declared tiers, the size of the queue.
pub async fn status(state: &AppState) -> Result<Status, WebError> {
    run(state, |forum| {
        Ok(Status {
            program: reports::program_status(forum.conn())?,
            dead_letters: reports::dead_letters(forum.conn())?,
            pending: reports::queue(forum.conn(), false)?.len(),
            notices: reports::notices(forum.conn(), NOTICES)?,
            outbox: outbox(forum)?,
            tiers: tiers(forum),
        })
    })
    .await
}

/// The review queue (pending nominations), with evidence.
pub async fn queue(
    state: &AppState,
    keyset: cadre_core::program::panel_pages::Keyset,
) -> Result<cadre_core::program::panel_pages::Paged<Nomination>, WebError> {
    run(state, move |forum| {
        Ok(cadre_core::program::panel_pages::queue(forum.conn(), keyset, crate::panel_lists::QUEUE_PAGE)?)
    })
    .await
}

/// A member with access to a tier.
#[derive(Debug, Clone, Serialize)]
pub struct AccessHolder {
    /// Member id.
    pub member_id: u64,
    /// Name.
    pub name: String,
    /// The tier.
    pub tier: String,
    /// `earned`, `approved` or `invited`.
    pub source: String,
    /// Since when.
    pub granted_at: i64,
    /// Why.
    pub reason: String,
}

/// A page of tier access, the newest grants first, and the tiers the settings declare.
pub async fn access_holders(
    state: &AppState,
    keyset: cadre_core::program::panel_pages::Keyset,
) -> Result<(cadre_core::program::panel_pages::Paged<AccessHolder>, Vec<Tier>), WebError> {
    run(state, move |forum| {
        let page = cadre_core::program::panel_pages::access(forum.conn(), keyset, crate::panel_lists::PANEL_PAGE)?;
        let holders = page
            .rows
            .into_iter()
            .map(|r| AccessHolder {
                member_id: r.member_id,
                name: r.name,
                tier: r.tier,
                source: r.source,
                granted_at: r.granted_at,
                reason: r.reason,
            })
            .collect();
        let page = cadre_core::program::panel_pages::Paged { rows: holders, newer: page.newer, older: page.older };
        Ok((page, tiers(forum)))
    })
    .await
}

/// One member, as moderators see them.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    /// Summary: points, badges, access, pending nominations.
    pub summary: MemberSummary,
    /// The program's figures for them (`member-record`), with thresholds.
    pub record: Vec<Figure>,
    /// Every ledger row, with the running total.
    pub ledger: Vec<LedgerRow>,
    /// Audit rows about them.
    pub audit: Vec<AuditRow>,
}

/// A member by name or id: summary, record, ledger, audit trail.
pub async fn member(state: &AppState, name_or_id: String) -> Result<MemberView, WebError> {
    run(state, move |forum| {
        let id = reports::resolve_member(forum.conn(), &name_or_id)?;
        let summary = reports::member(forum.conn(), id)?;
        let ledger = reports::ledger(forum.conn(), id)?;
        let audit = reports::audit_log(forum.conn(), Some(id), AUDIT_PAGE)?;
        let record = match forum.plugin_mut() {
            Some(plugin) => plugin.member_record(id, now_ms()).map_err(|e| WebError::Internal(e.to_string()))?,
            None => Vec::new(),
        };
        Ok(MemberView { summary, record, ledger, audit })
    })
    .await
}

/// The audit log, newest first.
pub async fn audit(state: &AppState) -> Result<Vec<AuditRow>, WebError> {
    run(state, |forum| Ok(reports::audit_log(forum.conn(), None, AUDIT_PAGE)?)).await
}

/// What to do with new settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingsAction {
    /// Only validate.
    Check,
    /// Validate, and show what they would have changed had they been in force from the start.
    Preview,
    /// Adopt them from now on (history keeps the rules that were in force then).
    Apply,
    /// Adopt them as if in force from the start: recompute history and write what differs.
    Recompute,
}

impl SettingsAction {
    /// From a form's button value (anything unknown only checks).
    pub fn from_form(value: &str) -> SettingsAction {
        match value {
            "preview" => SettingsAction::Preview,
            "apply" => SettingsAction::Apply,
            "recompute" => SettingsAction::Recompute,
            _ => SettingsAction::Check,
        }
    }
}

/// What checking, previewing or applying settings found.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsOutcome {
    /// Every error, each with its path and line.
    pub errors: Vec<ConfigError>,
    /// What the change does (preview and recompute).
    pub preview: Option<Preview>,
    /// True when the settings were applied.
    pub applied: bool,
}

/// The settings in force.
pub async fn settings(state: &AppState) -> Result<String, WebError> {
    run(state, |forum| Ok(forum.plugin_mut().ok_or(WebError::NotFound)?.settings().to_owned())).await
}

/// Check settings, preview them, or adopt them (from now on, or recomputing history). Nothing changes when any
/// error is found.
pub async fn configure(
    state: &AppState,
    moderator: &Member,
    text: String,
    action: SettingsAction,
) -> Result<SettingsOutcome, WebError> {
    if text.len() > MAX_SETTINGS {
        return Err(WebError::Invalid(format!("settings are limited to {MAX_SETTINGS} bytes")));
    }
    let id = moderator.id;
    run(state, move |forum| {
        let plugin = forum.plugin_mut().ok_or(WebError::NotFound)?;
        let checked = plugin.check(&text).map_err(|e| WebError::Internal(e.to_string()))?;
        if let Err(errors) = checked {
            return Ok(SettingsOutcome { errors, preview: None, applied: false });
        }
        let actor = forum.moderator_label(id)?;
        let (preview, applied) = match action {
            SettingsAction::Check => (None, false),
            SettingsAction::Preview => (Some(forum.preview(&text)?), false),
            SettingsAction::Apply => {
                forum.configure(&text, &actor, now_ms())?;
                (None, true)
            }
            SettingsAction::Recompute => (Some(forum.apply(&text, &actor, now_ms())?), true),
        };
        Ok(SettingsOutcome { errors: Vec::new(), preview, applied })
    })
    .await
}

fn reason(text: &str) -> Result<String, WebError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_REASON {
        return Err(WebError::Invalid(format!("a reason of 1 to {MAX_REASON} bytes is required")));
    }
    Ok(text.to_owned())
}

/// Approve or reject a pending nomination, with a reason.
pub async fn decide(
    state: &AppState,
    moderator: &Member,
    nomination: i64,
    approve: bool,
    why: &str,
) -> Result<(), WebError> {
    let (id, why) = (moderator.id, reason(why)?);
    run(state, move |forum| {
        forum.decide(id, nomination, approve, &why, now_ms())?;
        Ok(())
    })
    .await
}

/// Add (invite) a member to a tier, or remove them, with a reason.
pub async fn set_access(
    state: &AppState,
    moderator: &Member,
    name: String,
    tier: String,
    add: bool,
    why: &str,
) -> Result<(), WebError> {
    let (id, why) = (moderator.id, reason(why)?);
    run(state, move |forum| {
        let member = reports::resolve_member(forum.conn(), name.trim()).map_err(|e| match e {
            cadre_core::forum::ForumError::NotFound(_) => {
                WebError::Invalid(format!("no member is called {:?}", name.trim()))
            }
            other => other.into(),
        })?;
        let at = now_ms();
        if add {
            forum.add_member(id, member, &tier, &why, at)?
        } else {
            forum.remove_member(id, member, &tier, &why, at)?
        };
        Ok(())
    })
    .await
}

/// Put every failed write-back change back in the outbox's queue (audited). Returns how many.
pub async fn retry_outbox(state: &AppState, moderator: &Member) -> Result<usize, WebError> {
    let id = moderator.id;
    run(state, move |forum| {
        let actor = forum.moderator_label(id)?;
        let retried = forum.retry_outbox()?;
        let reason = format!("{retried} failed change(s) queued again");
        cadre_core::program::audit(forum.conn(), now_ms(), &actor, "retry-outbox", None, "outbox", &reason, None)?;
        Ok(retried)
    })
    .await
}

/// Retry every dead letter (lifting a quarantine). Returns (resolved, remaining).
pub async fn retry(state: &AppState, moderator: &Member) -> Result<(usize, usize), WebError> {
    let id = moderator.id;
    run(state, move |forum| {
        let actor = forum.moderator_label(id)?;
        let outcome = forum.retry_dead_letters()?;
        cadre_core::program::audit(
            forum.conn(),
            now_ms(),
            &actor,
            "retry-dead-letters",
            None,
            "dead letters",
            &format!("{} resolved, {} remaining", outcome.0, outcome.1),
            None,
        )?;
        Ok(outcome)
    })
    .await
}

/// Recompute the whole history under the program and settings in force (what a rollback offers): what it would
/// change, or with `apply`, write it. Refused while dead letters wait (retry them first).
pub async fn recompute(state: &AppState, moderator: &Member, apply: bool) -> Result<Preview, WebError> {
    let id = moderator.id;
    run(state, move |forum| {
        let actor = forum.moderator_label(id)?;
        Ok(forum.recompute_in_force(apply, &actor, now_ms())?)
    })
    .await
}

/// Member names for the panel's pickers (at most 500, by name).
pub async fn member_names(state: &AppState) -> Result<Vec<String>, WebError> {
    run(state, |forum| {
        Ok(forum
            .conn()
            .prepare("SELECT name FROM members ORDER BY name LIMIT ?1")?
            .query_map(params![500], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    })
    .await
}

/// Create a category; with a tier (one the settings declare) it is that tier's private forum.
pub async fn create_category(
    state: &AppState,
    moderator: &Member,
    slug: String,
    name: String,
    tier: Option<String>,
) -> Result<u64, WebError> {
    let slug = slug.trim().to_owned();
    let name = name.trim().to_owned();
    if slug.is_empty()
        || slug.len() > 40
        || !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(WebError::Invalid("a category's address has 1 to 40 lowercase letters, digits or '-'".into()));
    }
    if name.is_empty() || name.len() > 80 {
        return Err(WebError::Invalid("a category's name has 1 to 80 bytes".into()));
    }
    let tier = tier.filter(|t| !t.trim().is_empty());
    let id = moderator.id;
    run(state, move |forum| {
        if let Some(tier) = &tier
            && !tiers(forum).iter().any(|t| &t.id == tier)
        {
            return Err(WebError::Invalid(format!("the settings declare no tier {tier:?}")));
        }
        let taken: bool =
            forum
                .conn()
                .query_row("SELECT EXISTS (SELECT 1 FROM categories WHERE slug = ?1)", params![slug], |r| r.get(0))?;
        if taken {
            return Err(WebError::Invalid(format!("a category /c/{slug} exists already")));
        }
        let actor = forum.moderator_label(id)?;
        let category = forum.create_category(&slug, &name, tier.as_deref())?;
        let reason = match &tier {
            Some(tier) => format!("private to the tier {tier}"),
            None => "public".to_owned(),
        };
        cadre_core::program::audit(forum.conn(), now_ms(), &actor, "category-created", None, &slug, &reason, None)?;
        Ok(category)
    })
    .await
}

/// Every category (moderators see the private ones too), with the tiers a new one may be private to.
pub async fn categories(state: &AppState, moderator: &Member) -> Result<(Vec<Category>, Vec<Tier>), WebError> {
    let viewer = Viewer::Member(moderator.id);
    run(state, move |forum| Ok((read::categories(forum.conn(), viewer)?, tiers(forum)))).await
}
