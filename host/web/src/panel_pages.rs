//! The moderator panel's pages (moderators only; everyone else gets the not-found page): status and dead letters,
//! settings with every error beside its line, the review queue with evidence, members and tier access, one
//! member's record and ledger, the audit log. Forms carry the session's CSRF token.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::auth::Who;
use super::error::WebError;
use super::html::{badge, csrf, date, date_time, figure, page};
use super::pages::{PageResult, form_error};
use super::panel::{self, SettingsOutcome};
use super::panel_lists::{PANEL_PAGE, PanelQuery, audit_table, member_link, named_summary, names, pager};
use cadre_core::program::panel_pages::{self, Keyset};
use cadre_model::ConfigError;
use std::collections::HashMap;

/// A refused panel form, shown again: the error at the top of the same page, what the moderator typed kept, and the
/// refusal's status (400 for input refused, 409 for a conflict). Other errors (a forged form, a page that is not
/// there) are answered as before.
fn refusal(error: WebError) -> Result<String, WebError> {
    match error {
        WebError::Invalid(message) | WebError::Conflict(message) => Ok(message),
        other => Err(other),
    }
}

/// `page` with `status` instead of 200 (a refused form shown again).
fn with_status(page: PageResult, status: StatusCode) -> PageResult {
    page.map(|mut response| {
        *response.status_mut() = status;
        response
    })
}

fn respond(who: &Who, title: &str, content: Markup) -> PageResult {
    let nav = html! {
        nav.mod {
            a href="/mod" { "Status" } a href="/mod/settings" { "Settings" } a href="/mod/queue" { "Review queue" }
            a href="/mod/members" { "Members" } a href="/mod/categories" { "Categories" } a href="/mod/audit" { "Audit log" }
        }
        (content)
    };
    Ok(axum::response::Html(page(who, title, nav).into_string()).into_response())
}

/// `GET /mod`: the program's status, dead letters and the retry button.
pub async fn status(State(state): State<AppState>, who: Who) -> PageResult {
    who.moderator()?;
    let status = panel::status(&state).await?;
    let shown: Vec<u64> = status
        .notices
        .iter()
        .filter_map(|n| n.member_id)
        .chain(status.outbox.iter().flat_map(|o| o.failed.iter().map(|f| f.member_id)))
        .collect();
    let names = state.forum.read(move |conn| names(conn, shown)).await?;
    respond(
        &who,
        "Moderation",
        html! {
            h1 { "Program status" }
            @if let Some(p) = &status.program {
                table #status {
                    tr { th { "Program" } td { (p.name) " " (p.version) } }
                    tr { th { "Component" } td.muted { "sha256 " (p.hash) } }
                    tr { th { "Previous version" } td { (p.previous.as_deref().unwrap_or("none")) } }
                    tr { th { "Quarantined" } td #quarantine { @if p.quarantined { span.error { "yes — events are queued" } } @else { "no" } } }
                    tr { th { "Events delivered" } td { (p.processed_up_to) " of " (p.events) } }
                    tr { th { "Dead letters" } td { (p.dead_letters) } }
                    tr { th { "Review queue" } td { a href="/mod/queue" { (status.pending) " pending" } } }
                    tr { th { "Tiers" } td { @for t in &status.tiers { (t.name) " (" (t.id) ") " } } }
                }
                @if let Some(offer) = &p.recompute_offer {
                    section.card #recompute-offer {
                        h2 { "Recompute the history?" }
                        p {
                            "No longer in force (rolled back, or replaced while failing): " (offer.rolled_back.join(", "))
                            "; in force: " (offer.restored) ". "
                            "Events #" (offer.first_event) "–#" (offer.last_event) " (" (offer.events()) ") were handled by "
                            "a version no longer in force: what it made of them stays (a post it ignored is in no member's "
                            "record) until history is recomputed under the program in force."
                        }
                        @if p.dead_letters > 0 { p.error { "Retry the dead letters first (below)." } }
                        form method="post" action="/mod/recompute" {
                            (csrf(&who))
                            button #preview-recompute name="action" value="preview" type="submit" { "Preview the recompute" }
                        }
                    }
                }
            } @else { p { "No program is installed." } }
            h2 { "Notices" }
            @if status.notices.is_empty() { p.muted { "None." } }
            ul #notices { @for n in &status.notices {
                li { span.muted { (date_time(n.at)) } " " span.tag { (n.topic) } " "
                     @if let Some(m) = n.member_id { (member_link(&names, m)) " — " } (n.message) }
            } }
            h2 { "Dead letters" }
            @if status.dead_letters.is_empty() { p.muted { "None." } }
            table { @for d in &status.dead_letters { tr { td { "event " (d.event_id) } td { (d.kind) } td { (d.error) } td { (d.attempts) " attempts" } } } }
            form method="post" action="/mod/retry" { (csrf(&who)) button #retry type="submit" { "Retry dead letters and lift quarantine" } }
            @if let Some(outbox) = &status.outbox {
                section #outbox {
                    h2 { "Write-back outbox" }
                    p {
                        "Mirroring grants to the other platform is " (if outbox.enabled { "on" } else { "off" }) ": "
                        span #outbox-pending { (outbox.counts.pending) " pending" } ", "
                        (outbox.counts.done) " done, "
                        span #outbox-failed { (outbox.counts.failed) " failed" } "."
                    }
                    @if !outbox.failed.is_empty() {
                        table #outbox-failures { @for f in &outbox.failed {
                            tr { td { (f.change) } td { (member_link(&names, f.member_id)) }
                                 td { (f.subject) } td { (f.attempts) " attempts" }
                                 td.error { (f.last_error.as_deref().unwrap_or("")) } }
                        } }
                        form method="post" action="/mod/outbox/retry" {
                            (csrf(&who)) button #retry-outbox type="submit" { "Retry the failed changes" }
                        }
                    }
                }
            }
        },
    )
}

/// `POST /mod/outbox/retry`: queue the failed write-back changes again.
pub async fn retry_outbox(State(state): State<AppState>, who: Who, Form(form): Form<TokenForm>) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    panel::retry_outbox(&state, moderator).await?;
    Ok(Redirect::to("/mod").into_response())
}

/// A form with only a CSRF token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /mod/retry`.
pub async fn retry(State(state): State<AppState>, who: Who, Form(form): Form<TokenForm>) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    panel::retry(&state, moderator).await?;
    Ok(Redirect::to("/mod").into_response())
}

/// The recompute form.
#[derive(Debug, Deserialize)]
pub struct RecomputeForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `preview` (changes nothing) or `apply`.
    #[serde(default)]
    pub action: String,
}

/// `POST /mod/recompute`: preview recomputing the whole history under the program and settings in force (what a
/// rollback offers), or apply it.
pub async fn recompute(State(state): State<AppState>, who: Who, Form(form): Form<RecomputeForm>) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    let apply = form.action == "apply";
    let preview = panel::recompute(&state, moderator, apply).await?;
    respond(
        &who,
        "Recompute history",
        html! {
            h1 { "Recompute history under the program in force" }
            @if apply { p.ok #recompute-done { "Recomputed: history is now what the program in force makes of it." } }
            (preview_table(&preview, apply))
            @if !apply {
                form method="post" action="/mod/recompute" {
                    (csrf(&who))
                    button #apply-recompute.danger name="action" value="apply" type="submit" { "Recompute history" }
                }
            }
        },
    )
}

fn settings_page(who: &Who, text: &str, outcome: Option<&SettingsOutcome>) -> PageResult {
    let errors: &[ConfigError] = outcome.map_or(&[], |o| &o.errors);
    respond(
        who,
        "Settings",
        html! {
            h1 { "Program settings" }
            @if let Some(o) = outcome {
                @if o.errors.is_empty() {
                    p.ok #settings-ok { @if o.applied { "Applied: the new settings are in force." } @else { "No errors: these settings are valid." } }
                    @if let Some(preview) = &o.preview { (preview_table(preview, o.applied)) }
                } @else {
                    p.error #settings-errors { (o.errors.len()) " error(s); nothing was changed." }
                    ul #error-list { @for e in errors { li.field-error { (error_label(e)) } } }
                    h2 { "Your settings, with each error beside its line" }
                    div.settings-lines #annotated {
                        @for e in errors.iter().filter(|e| e.line.is_none()) { div.field-error { (error_label(e)) } }
                        @for (i, line) in text.lines().enumerate() {
                            @let here: Vec<&ConfigError> = errors.iter().filter(|e| e.line == Some(i as u32 + 1)).collect();
                            div.line.bad[!here.is_empty()] { (format!("{:>4}  ", i + 1)) (line) }
                            @for e in here { div.field-error data-line=(i + 1) data-path=(e.path) { "↑ " (e.path) ": " (e.message) } }
                        }
                    }
                }
            }
            form method="post" action="/mod/settings" {
                (csrf(who))
                textarea.toml #settings name="settings" spellcheck="false" { (text) }
                p {
                    button #check name="action" value="check" type="submit" class="secondary" { "Check" } " "
                    button #preview name="action" value="preview" type="submit" class="secondary" { "Preview the change" } " "
                    button #apply name="action" value="apply" type="submit" { "Apply from now on" } " "
                    button #recompute name="action" value="recompute" type="submit" class="danger" { "Apply to all history" }
                }
                p.muted { "Preview replays the whole event log with these settings in a scratch database and shows what would differ; nothing changes. \"Apply from now on\" keeps history as it was scored; \"Apply to all history\" recomputes it and writes only the differences." }
            }
        },
    )
}

fn preview_table(p: &cadre_core::events::Preview, applied: bool) -> Markup {
    let grants = |label: &str, list: &[cadre_core::events::Grant]| {
        html! {
            @if !list.is_empty() {
                tr { th { (label) } td { @for g in list { a href={ "/mod/members/%23" (g.member_id) } { (g.name) } " (" (g.what) ") " } } }
            }
        }
    };
    html! {
        section.card #preview-result {
            h2 { @if applied { "What changed" } @else { "What this change would do" } }
            p.muted { (p.events) " events replayed" @if p.failures > 0 { ", " span.error { (p.failures) " would fail" } } }
            @if p.is_empty() { p { "Nothing members or moderators see would change." } }
            @if p.state_keys_changed > 0 { p #state-changed { "The program's own records (what member records show) differ in " (p.state_keys_changed) " key(s)." } }
            table {
                (grants("Badges gained", &p.badges_gained)) (grants("Badges lost", &p.badges_lost))
                (grants("Access gained", &p.access_gained)) (grants("Access lost", &p.access_lost))
                (grants("New nominations", &p.nominations_added))
            }
            @if !p.points.is_empty() {
                h3 { "Points" }
                table { tr { th { "Member" } th { "Now" } th { "After" } }
                    @for c in p.points.iter().take(50) { tr { td { (c.name) } td { (c.before) } td { (c.after) } } } }
            }
        }
    }
}

fn error_label(e: &ConfigError) -> String {
    match e.line {
        Some(line) => format!("line {line} · {}: {}", e.path, e.message),
        None => format!("{}: {}", e.path, e.message),
    }
}

/// `GET /mod/settings`: the settings in force, as TOML.
pub async fn settings(State(state): State<AppState>, who: Who) -> PageResult {
    who.moderator()?;
    let text = panel::settings(&state).await?;
    settings_page(&who, &text, None)
}

/// The settings form.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The TOML.
    #[serde(default)]
    pub settings: String,
    /// `check`, `preview`, `apply` or `recompute`.
    #[serde(default)]
    pub action: String,
}

/// `POST /mod/settings`: check, or apply if valid; errors are shown beside their lines.
pub async fn save_settings(State(state): State<AppState>, who: Who, Form(form): Form<SettingsForm>) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    let action = panel::SettingsAction::from_form(&form.action);
    let outcome = panel::configure(&state, moderator, form.settings.clone(), action).await?;
    settings_page(&who, &form.settings, Some(&outcome))
}

/// `GET /mod/queue`: pending nominations with their evidence, and the decision forms.
pub async fn queue(
    State(state): State<AppState>,
    who: Who,
    Query(query): Query<crate::panel_lists::PanelQuery>,
) -> PageResult {
    queue_page(&state, &who, None, query.keyset()).await
}

/// The review queue, with a refused decision (the nomination, the error, the form sent) shown again.
async fn queue_page(
    state: &AppState,
    who: &Who,
    refused: Option<(i64, &str, &DecisionForm)>,
    keyset: cadre_core::program::panel_pages::Keyset,
) -> PageResult {
    who.moderator()?;
    let page = panel::queue(state, keyset).await?;
    let queue = &page.rows;
    // The best posts by the title of their topic (a moderator sees every category).
    let posts: Vec<u64> = queue.iter().flat_map(|n| n.evidence.posts.iter().copied()).collect();
    let titles: std::collections::HashMap<u64, String> = state
        .forum
        .read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT COALESCE(q.title, '') FROM posts p JOIN posts q ON q.id = p.topic_id WHERE p.id = ?1",
            )?;
            posts.into_iter().map(|post| Ok((post, statement.query_row([post as i64], |row| row.get(0))?))).collect()
        })
        .await?;
    respond(
        who,
        "Review queue",
        html! {
            h1 { "Review queue" }
            @if let Some((_, error, _)) = refused { (form_error(error)) }
            @if queue.is_empty() && page.older.is_none() { p.muted #queue-empty { "Nobody is waiting for review." } }
            @else if queue.is_empty() { p.muted { "No one waits on this page any more." } }
            @else { p.muted { "Oldest first." } }
            @for n in queue {
                section.card.nomination id={ "n" (n.id) } {
                    h2 { a href={ "/mod/members/%23" (n.member_id) } { (n.member_name) } " → " (n.tier) }
                    p.muted { "Nominated " (date(n.created_at)) }
                    p { strong { (named_summary(&n.evidence.summary, n.member_id, &n.member_name)) } }
                    table { @for f in &n.evidence.figures {
                        tr { td { (f.label) } td { (figure(f.value)) } td.muted { @if let Some(t) = f.threshold { "needs " (figure(t)) } } }
                    } }
                    @if !n.evidence.posts.is_empty() {
                        p.best-posts { "Best posts: " @for p in &n.evidence.posts {
                            a href={ "/p/" (state.forum.ids().post(*p)) } { "“" (titles.get(p).map_or("(a post)", String::as_str)) "”" } " "
                        } }
                    }
                    @if !n.evidence.flags.is_empty() {
                        ul.error { @for f in &n.evidence.flags { li { (f) } } }
                    }
                    form method="post" action={ "/mod/queue/" (n.id) } {
                        (csrf(who))
                        label { "Reason (recorded in the audit log)" }
                        input type="text" name="reason" maxlength="1000" required
                            value=(refused.filter(|(id, ..)| *id == n.id).map_or("", |(_, _, f)| f.reason.as_str()));
                        p {
                            button.approve name="decision" value="approve" type="submit" { "Approve" } " "
                            button.danger name="decision" value="reject" type="submit" { "Reject" }
                        }
                    }
                }
            }
            (crate::panel_lists::queue_pager(page.older, page.newer))
        },
    )
}

/// A decision form.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `approve` or `reject`.
    #[serde(default)]
    pub decision: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// `POST /mod/queue/{nomination}`.
pub async fn decide(
    State(state): State<AppState>,
    who: Who,
    Path(nomination): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    match panel::decide(&state, moderator, nomination, form.decision == "approve", &form.reason).await {
        Ok(()) => Ok(Redirect::to("/mod/queue").into_response()),
        Err(error) => {
            let status = error.status();
            let message = refusal(error)?;
            // The page that starts at the refused nomination, so its form (with the reason typed) is on it.
            let keyset = cadre_core::program::panel_pages::Keyset::After(nomination - 1);
            with_status(queue_page(&state, &who, Some((nomination, &message, &form)), keyset).await, status)
        }
    }
}

/// `GET /mod/members[?before=ID|?after=ID]`: a page of tier access (newest grants first), and the add / remove
/// forms.
pub async fn members(
    State(state): State<AppState>,
    who: Who,
    Query(query): Query<crate::panel_lists::PanelQuery>,
) -> PageResult {
    members_page(&state, &who, None, query.keyset()).await
}

/// The members page, with a refused add or remove (the error, the form sent, whether it was an add) shown again.
async fn members_page(
    state: &AppState,
    who: &Who,
    refused: Option<(&str, &AccessForm, bool)>,
    keyset: cadre_core::program::panel_pages::Keyset,
) -> PageResult {
    who.moderator()?;
    let (page, tiers) = panel::access_holders(state, keyset).await?;
    let holders = &page.rows;
    let names = panel::member_names(state).await?;
    let added = refused.filter(|(_, _, add)| *add).map(|(_, form, _)| form);
    let removed = refused.filter(|(_, _, add)| !*add).map(|(_, form, _)| form);
    respond(
        who,
        "Members",
        html! {
            h1 { "Tier access" }
            @if let Some((error, ..)) = refused { (form_error(error)) }
            table #access {
                tr { th { "Member" } th { "Tier" } th { "How" } th { "Since" } th { "Reason" } th {} }
                @for h in holders {
                    tr.(h.source) {
                        td { a href={ "/mod/members/%23" (h.member_id) } { (h.name) } }
                        td { (h.tier) } td { span.tag.(h.source) { (h.source) } }
                        td { (date(h.granted_at)) } td { (h.reason) }
                        td { form method="post" action="/mod/members/remove" {
                            (csrf(who))
                            input type="hidden" name="name" value=(h.name);
                            input type="hidden" name="tier" value=(h.tier);
                            input type="text" name="reason" placeholder="reason" maxlength="1000" required
                                value=(removed.filter(|f| f.name == h.name && f.tier == h.tier).map_or("", |f| f.reason.as_str()));
                            button.danger type="submit" { "Remove" }
                        } }
                    }
                }
            }
            (crate::panel_lists::pager("/mod/members?", page.newer, page.older))
            section.card {
                h2 { "Add (invite) a member" }
                form method="post" action="/mod/members/add" {
                    (csrf(who))
                    label { "Member" }
                    input type="text" name="name" list="member-names" maxlength=(cadre_core::forum::names::MAX_NAME) required
                        value=(added.map_or("", |f| f.name.as_str()));
                    datalist #member-names { @for n in &names { option value=(n) {} } }
                    label { "Tier" }
                    select name="tier" { @for t in &tiers {
                        option value=(t.id) selected[added.is_some_and(|f| f.tier == t.id)] { (t.name) }
                    } }
                    label { "Reason (recorded in the audit log)" }
                    input type="text" name="reason" maxlength="1000" required value=(added.map_or("", |f| f.reason.as_str()));
                    p { button type="submit" { "Add as invited" } }
                }
            }
        },
    )
}

/// The add / remove form.
#[derive(Debug, Deserialize)]
pub struct AccessForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Member name (or id).
    #[serde(default)]
    pub name: String,
    /// The tier.
    #[serde(default)]
    pub tier: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

async fn set_access(state: AppState, who: Who, form: AccessForm, add: bool) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    match panel::set_access(&state, moderator, form.name.clone(), form.tier.clone(), add, &form.reason).await {
        Ok(()) => Ok(Redirect::to("/mod/members").into_response()),
        Err(error) => {
            let status = error.status();
            let message = refusal(error)?;
            with_status(members_page(&state, &who, Some((&message, &form, add)), Default::default()).await, status)
        }
    }
}

/// `POST /mod/members/add`.
pub async fn add(State(state): State<AppState>, who: Who, Form(form): Form<AccessForm>) -> PageResult {
    set_access(state, who, form, true).await
}

/// `POST /mod/members/remove`.
pub async fn remove(State(state): State<AppState>, who: Who, Form(form): Form<AccessForm>) -> PageResult {
    set_access(state, who, form, false).await
}

/// `GET /mod/members/{member}`: one member's record (the program's figures), badges, access, ledger and audit.
pub async fn member(
    State(state): State<AppState>,
    who: Who,
    Path(member): Path<String>,
    Query(query): Query<PanelQuery>,
) -> PageResult {
    member_page(&state, &who, member, None, query.keyset()).await
}

/// A member's page, with a reset link just issued shown on it.
pub async fn member_page(
    state: &AppState,
    who: &Who,
    member: String,
    issued: Option<&super::recovery::IssuedLink>,
    ledger_from: Keyset,
) -> PageResult {
    who.moderator()?;
    let view = panel::member(state, member).await?;
    let s = &view.summary;
    let id = s.id;
    let ledger = state.forum.run(move |forum| panel_pages::ledger(forum.conn(), id, ledger_from, PANEL_PAGE)).await??;
    let audit_names = HashMap::from([(s.id, s.name.clone())]);
    let audit_rows = &view.audit[..view.audit.len().min(20)];
    respond(
        who,
        &s.name,
        html! {
            h1 { (s.name) " " @if s.moderator { span.tag { "moderator" } } }
            p { "Joined " (date(s.joined_at)) " · " strong #points { (s.points) " points" } }
            h2 { "Access" }
            @if s.access.is_empty() { p.muted { "No tier access." } }
            ul { @for a in &s.access { li { (a.tier) " " span.tag.(a.source) { (a.source) } " since " (date(a.granted_at)) " — " (a.reason) } } }
            h2 { "Badges" }
            ul.badges { @for b in &s.badges { (badge(&b.name, &b.level, &b.description)) } }
            h2 { "Record" }
            table #record { @for f in &view.record {
                tr { td { (f.label) } td { (figure(f.value)) } td.muted { @if let Some(t) = f.threshold { "threshold " (figure(t)) } } }
            } }
            h2 { "Ledger" }
            p.muted { "Newest first, " (PANEL_PAGE) " lines a page." }
            table #ledger {
                tr { th { "When" } th { "Δ" } th { "Total" } th { "Rule" } th { "Why" } }
                @for l in &ledger.rows { tr { td { (date_time(l.at)) } td { (l.delta) } td { (l.total) } td { (l.rule) } td { (l.reason) } } }
            }
            (pager(&format!("/mod/members/%23{}?", s.id), ledger.newer, ledger.older))
            h2 { "Audit" }
            (audit_table(audit_rows, &audit_names))
            @if view.audit.len() > audit_rows.len() { p { a href={ "/mod/audit?member=%23" (s.id) } { "All of " (s.name) "'s audit log →" } } }
            (super::recovery::panel_card(who, &format!("#{}", s.id), issued))
        },
    )
}

/// `GET /mod/audit?before=&after=&member=`: the audit log (everyone's, or one member's), newest first, a page at a
/// time.
pub async fn audit(State(state): State<AppState>, who: Who, Query(query): Query<PanelQuery>) -> PageResult {
    who.moderator()?;
    let keyset = query.keyset();
    let member = query.member.clone();
    let (page, names, member) = state
        .forum
        .run(move |forum| -> Result<_, WebError> {
            let member = match &member {
                Some(m) => Some(cadre_core::program::reports::resolve_member(forum.conn(), m)?),
                None => None,
            };
            let page = panel_pages::audit(forum.conn(), member, keyset, PANEL_PAGE)?;
            let names = names(forum.conn(), page.rows.iter().filter_map(|r| r.member_id).chain(member))?;
            Ok((page, names, member))
        })
        .await??;
    let base = match member {
        Some(m) => format!("/mod/audit?member=%23{m}&"),
        None => "/mod/audit?".to_owned(),
    };
    respond(
        &who,
        "Audit log",
        html! {
            h1 { "Audit log" @if let Some(m) = member { " of " (member_link(&names, m)) } }
            (audit_table(&page.rows, &names))
            (pager(&base, page.newer, page.older))
        },
    )
}

/// `GET /mod/categories`: every category, and the form to create one (public, or private to a tier).
pub async fn categories(State(state): State<AppState>, who: Who) -> PageResult {
    categories_page(&state, &who, None).await
}

/// The categories page, with a refused new category (the error, the form sent) shown again.
async fn categories_page(state: &AppState, who: &Who, refused: Option<(&str, &CategoryForm)>) -> PageResult {
    let moderator = who.moderator()?;
    let (categories, tiers) = panel::categories(state, moderator).await?;
    let sent = refused.map(|(_, form)| form);
    respond(
        who,
        "Categories",
        html! {
            h1 { "Categories" }
            @if let Some((error, _)) = refused { (form_error(error)) }
            table #categories { @for c in &categories {
                tr { td class={ "category-cell cat-" (c.colour) } { a href={ "/c/" (c.slug) } { (c.name) } } td.muted { "/c/" (c.slug) }
                     td { @if c.private { span.private-tag { "private" } } } td.muted { (c.topics) " topics" }
                     td { (super::category_look::form(who, c)) } }
            } }
            section.card {
                h2 { "New category" }
                form method="post" action="/mod/categories" {
                    (csrf(who))
                    label { "Address (/c/…)" }
                    input type="text" name="slug" maxlength="40" pattern="[a-z0-9-]+" required value=(sent.map_or("", |f| f.slug.as_str()));
                    label { "Name" } input type="text" name="name" maxlength="80" required value=(sent.map_or("", |f| f.name.as_str()));
                    label { "Who sees it" }
                    select name="tier" {
                        option value="" { "Everyone (public)" }
                        @for t in &tiers { option value=(t.id) selected[sent.is_some_and(|f| f.tier == t.id)] { "Only " (t.name) " (private)" } }
                    }
                    p { button type="submit" { "Create" } }
                }
            }
        },
    )
}

/// The new-category form.
#[derive(Debug, Deserialize)]
pub struct CategoryForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// URL name.
    #[serde(default)]
    pub slug: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The tier it is private to (empty: public).
    #[serde(default)]
    pub tier: String,
}

/// `POST /mod/categories`.
pub async fn create_category(State(state): State<AppState>, who: Who, Form(form): Form<CategoryForm>) -> PageResult {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    match panel::create_category(&state, moderator, form.slug.clone(), form.name.clone(), Some(form.tier.clone())).await
    {
        Ok(_) => Ok(Redirect::to("/mod/categories").into_response()),
        Err(error) => {
            let status = error.status();
            let message = refusal(error)?;
            with_status(categories_page(&state, &who, Some((&message, &form))).await, status)
        }
    }
}
