//! The member pages (server-rendered HTML, no JavaScript needed): the forum index, the latest topics, a category,
//! a topic with its answers and replies, permalinks, search and profiles. Reads only, through `forum::read`; the
//! forms they show post to `forms`, which render a category or topic page again, with a [`Draft`], when a post is
//! refused: the member's text back in its form and the reason beside it.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::AppState;
use super::auth::Who;
use super::error::WebError;
use super::html::{ago, avatar, badge, count, csrf, date, page};
use super::markdown;
use super::paging::{self, ListQuery};
use super::post_ref::PostRef;
use cadre_core::forum::read::{self, Post, TopicSummary};

/// A rendered page.
pub type PageResult = Result<Response, WebError>;

fn respond(who: &Who, title: &str, content: Markup) -> PageResult {
    Ok(Html(page(who, title, content).into_string()).into_response())
}

/// A refused post shown again in its form: what the member typed and why it was refused.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The form it goes back into.
    pub form: DraftForm,
    /// The title typed (questions only).
    pub title: String,
    /// The text typed.
    pub body: String,
    /// Why it was refused (a message safe to show).
    pub error: String,
}

/// Which form a [`Draft`] goes back into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftForm {
    /// The category page's ask form.
    Ask,
    /// The topic page's answer form.
    Answer,
    /// The reply form under this post (a question or an answer).
    Reply(u64),
}

impl Draft {
    /// The draft of `form`, when it is this one.
    fn of(draft: Option<&Draft>, form: DraftForm) -> Option<&Draft> {
        draft.filter(|d| d.form == form)
    }
}

/// The error above a refused form (the page's one `#form-error`), announced to screen readers.
pub fn form_error(error: &str) -> Markup {
    html! { p.error.form-error #form-error role="alert" { (error) } }
}

/// A page that shows a refused form again: 400, the input was refused.
fn refused(page: PageResult) -> PageResult {
    page.map(|mut response| {
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    })
}

fn topic_list(topics: &[TopicSummary]) -> Markup {
    html! {
        @if topics.is_empty() { p.muted { "No topics yet." } }
        table.topics {
            @for t in topics {
                tr {
                    td { a.topic-link href={ "/t/" (t.public_id) } { (t.title) } " "
                         @if t.solved { span.solved { "✓ solved" } } }
                    td { a class={ "cat-chip cat-" (t.category_colour) } href={ "/c/" (t.category) } { (t.category_name) } }
                    td.muted { @if let Some(a) = &t.author { a href={ "/u/" (a) } { (a) } } @else { "deleted" } }
                    td.muted { (count(t.answers, "answer", "answers")) }
                    td.muted { (count(t.likes, "like", "likes")) }
                    td.muted { "active " (ago(t.last_activity_at)) }
                }
            }
        }
    }
}

/// `GET /`: the categories the viewer may see, and the latest topics.
pub async fn index(State(state): State<AppState>, who: Who) -> PageResult {
    let viewer = who.viewer();
    let (categories, latest) =
        state.forum.read(move |conn| Ok((read::categories(conn, viewer)?, read::topics(conn, viewer, None)?))).await?;
    respond(
        &who,
        "Forum",
        html! {
            h1 { "Categories" }
            table.categories {
                @for c in &categories {
                    tr {
                        td class={ "category-cell cat-" (c.colour) } {
                             a.category-link href={ "/c/" (c.slug) } { (c.name) }
                             @if c.private { " " span.private-tag { "private" } }
                             @if !c.description.is_empty() { p.category-description { (c.description) } } }
                        td.muted { (count(c.topics, "topic", "topics")) }
                    }
                }
            }
            h2 { "Latest" }
            (topic_list(&latest[..latest.len().min(10)]))
        },
    )
}

/// `GET /latest?after=`: the latest topics across the categories the viewer may see, a page at a time.
pub async fn latest(State(state): State<AppState>, who: Who, Query(query): Query<ListQuery>) -> PageResult {
    let viewer = who.viewer();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let topics = state.forum.read(move |conn| read::topics_page(conn, viewer, None, after)).await?;
    let pager = paging::pager(state.forum.ids(), "/latest?", after.is_some(), topics.next);
    respond(&who, "Latest", html! { h1 { "Latest topics" } (topic_list(&topics.items)) (pager) })
}

/// `GET /c/{slug}?after=`: a category's topics, a page at a time, and, for members, the form to ask a question.
pub async fn category(
    State(state): State<AppState>,
    who: Who,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    category_page_after(&state, &who, slug, None, after).await
}

/// A category's page; with a draft, its ask form shows the refused question again (and the page answers 400).
pub async fn category_page(state: &AppState, who: &Who, slug: String, draft: Option<&Draft>) -> PageResult {
    category_page_after(state, who, slug, draft, None).await
}

async fn category_page_after(
    state: &AppState,
    who: &Who,
    slug: String,
    draft: Option<&Draft>,
    after: Option<read::Cursor>,
) -> PageResult {
    let viewer = who.viewer();
    let (category, page) = state
        .forum
        .read(move |conn| {
            let Some(category) = read::category(conn, viewer, &slug)? else { return Ok((None, None)) };
            let page = read::topics_page(conn, viewer, Some(category.id), after)?;
            Ok((Some(category), Some(page)))
        })
        .await?;
    let (Some(category), Some(page)) = (category, page) else { return Err(WebError::NotFound) };
    let topics = page.items;
    let pager = paging::pager(state.forum.ids(), &format!("/c/{}?", category.slug), after.is_some(), page.next);
    let ask = Draft::of(draft, DraftForm::Ask);
    let page = respond(
        who,
        &category.name,
        html! {
            h1 class={ "category-title cat-" (category.colour) } { (category.name) @if category.private { " " span.private-tag { "private" } } }
            @if !category.description.is_empty() { p.category-description { (category.description) } }
            (topic_list(&topics))
            (pager)
            @if who.member.is_some() {
                section.card #ask {
                    h2 { "Ask a question" }
                    form method="post" action={ "/c/" (category.slug) "/topics" } {
                        (csrf(who))
                        @if let Some(d) = ask { (form_error(&d.error)) }
                        label for="title" { "Title" }
                        // Focused when shown again, so the browser scrolls to the form and its error.
                        input #title type="text" name="title" maxlength="300" required
                            value=(ask.map_or("", |d| &d.title)) autofocus[ask.is_some()];
                        label for="body" { "Details" }
                        textarea #body name="body" rows="6" maxlength="65536" required { (ask.map_or("", |d| &d.body)) }
                        p { button #ask-submit type="submit" { "Post question" } }
                    }
                }
            } @else {
                p.muted { a href="/login" { "Log in" } " to ask a question." }
            }
        },
    );
    if ask.is_some() { refused(page) } else { page }
}

/// The root answer (or the question) a post hangs under, for threading replies.
fn root_of(post: &Post, parents: &HashMap<u64, (Option<u64>, String)>) -> u64 {
    let mut current = post.id;
    for _ in 0..64 {
        match parents.get(&current) {
            Some((Some(parent), kind)) if kind == "reply" => current = *parent,
            _ => break,
        }
    }
    current
}

fn post_card(who: &Who, post: &Post, asker: Option<u64>, replies: &[&Post], draft: Option<&Draft>) -> Markup {
    let me = who.member.as_ref().map(|m| m.id);
    let own = me.is_some() && me == post.author_id;
    let reply = Draft::of(draft, DraftForm::Reply(post.id));
    html! {
        article.card.post.(post.kind).accepted[post.accepted] id={ "p" (post.public_id) } {
            @if let Some(title) = &post.title { h1 { (title) } }
            div.meta {
                @if let Some(a) = &post.author { (avatar(a)) }
                (post.kind) " by "
                @if let Some(a) = &post.author { a href={ "/u/" (a) } { (a) } } @else { "deleted" }
                " · " (ago(post.created_at)) " · " span.likes { (count(post.likes, "like", "likes")) }
                @if post.accepted { " · " span.solved { "✓ accepted answer" } }
                @if let Some(at) = post.edited_at { " · " span.edited title={ "edited " (super::html::date_time(at)) " UTC" } { "edited" } }
                " · " a href={ "/p/" (post.public_id) } { "link" }
            }
            div.body { (markdown::render(&post.body)) }
            @if who.member.is_some() {
                div.actions {
                    @if !own {
                        form method="post" action={ "/p/" (post.public_id) (if post.liked { "/unlike" } else { "/like" }) } {
                            (csrf(who))
                            button.like type="submit" { (if post.liked { "Unlike" } else { "Like" }) }
                        }
                    }
                    @if post.kind == "answer" && me.is_some() && me == asker {
                        form method="post" action={ "/p/" (post.public_id) (if post.accepted { "/unaccept" } else { "/accept" }) } {
                            (csrf(who))
                            button.accept.secondary type="submit" { (if post.accepted { "Unaccept" } else { "Accept this answer" }) }
                        }
                    }
                    (change_links(who, post))
                    details.reply open[reply.is_some()] {
                        summary { "Reply" }
                        form method="post" action={ "/p/" (post.public_id) "/replies" } {
                            (csrf(who))
                            @if let Some(d) = reply { (form_error(&d.error)) }
                            textarea name="body" rows="3" maxlength="65536" required autofocus[reply.is_some()]
                                aria-label="Your reply" { (reply.map_or("", |d| &d.body)) }
                            button type="submit" { "Post reply" }
                        }
                    }
                }
            }
            @for reply in replies {
                div.reply.card id={ "p" (reply.public_id) } {
                    div.meta { "reply by " @if let Some(a) = &reply.author { a href={ "/u/" (a) } { (a) } } " · " (ago(reply.created_at)) " · " (count(reply.likes, "like", "likes"))
                        @if reply.edited_at.is_some() { " · " span.edited { "edited" } } }
                    div.body { (markdown::render(&reply.body)) }
                    @if who.member.is_some() { div.actions { (change_links(who, reply)) } }
                }
            }
        }
    }
}

/// Edit and delete, for the post's author and for moderators (with the post's history, for moderators, once it
/// was edited). Deleting asks again inside a disclosure (no JavaScript).
fn change_links(who: &Who, post: &Post) -> Markup {
    let Some(me) = &who.member else { return html! {} };
    let own = post.author_id == Some(me.id);
    html! {
        @if own || me.moderator {
            a.edit-link href={ "/p/" (post.public_id) "/edit" } { "Edit" }
            @if me.moderator && post.edited_at.is_some() {
                " " a.history-link href={ "/mod/posts/" (post.public_id) } { "History" }
            }
            details.delete {
                summary { "Delete" }
                form method="post" action={ "/p/" (post.public_id) "/delete" } {
                    (csrf(who))
                    @if post.kind == "question" { p.muted { "Deletes the whole topic." } }
                    @if !own { input type="text" name="reason" maxlength="1000" required placeholder="Reason (audit log)" aria-label="Reason"; }
                    button.danger type="submit" { "Delete for good" }
                }
            }
        }
    }
}

/// `GET /t/{topic}`: the question, its answers (the accepted one marked) and replies under what they answer. An
/// old numeric link to a topic the viewer may see is redirected to its public id.
pub async fn topic(State(state): State<AppState>, who: Who, id: PostRef) -> PageResult {
    if id.legacy {
        let viewer = who.viewer();
        let number = id.number;
        state.forum.read(move |conn| read::topic_title(conn, viewer, number)).await?.ok_or(WebError::NotFound)?;
        return Ok(Redirect::permanent(&format!("/t/{}", state.forum.ids().post(number))).into_response());
    }
    topic_page(&state, &who, id.number, None).await
}

/// A topic's page; with a draft, its answer form or a reply form shows the refused post again (and the page
/// answers 400).
pub async fn topic_page(state: &AppState, who: &Who, id: u64, draft: Option<&Draft>) -> PageResult {
    let viewer = who.viewer();
    let topic = state.forum.read(move |conn| read::topic(conn, viewer, id)).await?.ok_or(WebError::NotFound)?;
    let parents: HashMap<u64, (Option<u64>, String)> =
        topic.posts.iter().map(|p| (p.id, (p.parent, p.kind.clone()))).collect();
    let replies_to = |root: u64| -> Vec<&Post> {
        topic.posts.iter().filter(|p| p.kind == "reply" && root_of(p, &parents) == root).collect()
    };
    let asker = topic.question.author_id;
    let title = topic.question.title.clone().unwrap_or_default();
    let answer = Draft::of(draft, DraftForm::Answer);
    let page = respond(
        who,
        &title,
        html! {
            p.muted { a href={ "/c/" (topic.category.slug) } { "← " (topic.category.name) } }
            (post_card(who, &topic.question, asker, &replies_to(topic.question.id), draft))
            h2 { (count(topic.posts.iter().filter(|p| p.kind == "answer").count() as i64, "answer", "answers")) }
            @for answer in topic.posts.iter().filter(|p| p.kind == "answer") {
                (post_card(who, answer, asker, &replies_to(answer.id), draft))
            }
            @if who.member.is_some() {
                section.card #answer {
                    h2 { "Your answer" }
                    form method="post" action={ "/t/" (topic.question.public_id) "/answers" } {
                        (csrf(who))
                        @if let Some(d) = answer { (form_error(&d.error)) }
                        textarea #answer-body name="body" rows="6" maxlength="65536" required
                            autofocus[answer.is_some()] aria-label="Your answer" { (answer.map_or("", |d| &d.body)) }
                        p { button #answer-submit type="submit" { "Post answer" } }
                    }
                }
            } @else {
                p.muted { a href="/login" { "Log in" } " to answer." }
            }
        },
    );
    if draft.is_some() { refused(page) } else { page }
}

/// `GET /p/{post}`: a permalink, redirected to its place in the topic.
pub async fn permalink(State(state): State<AppState>, who: Who, id: PostRef) -> PageResult {
    let viewer = who.viewer();
    let post = state.forum.read(move |conn| read::post(conn, viewer, id.number)).await?.ok_or(WebError::NotFound)?;
    Ok(Redirect::to(&format!("/t/{}#p{}", post.public_topic, post.public_id)).into_response())
}

/// Search hits with the titles of their topics.
type Hits = Vec<(Post, Option<String>)>;

/// `GET /search?q=&after=`: posts the viewer may see whose title or text contains the words, a page at a time.
pub async fn search(State(state): State<AppState>, who: Who, Query(query): Query<ListQuery>) -> PageResult {
    let viewer = who.viewer();
    let q = query.q.chars().take(read::MAX_QUERY).collect::<String>();
    let lookup = q.clone();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let (hits, next) = state
        .forum
        .read(move |conn| -> rusqlite::Result<(Hits, Option<read::Cursor>)> {
            let page = read::search_page(conn, viewer, &lookup, after)?;
            let hits = page
                .items
                .into_iter()
                .map(|p| Ok((p.clone(), read::topic_title(conn, viewer, p.topic)?)))
                .collect::<rusqlite::Result<_>>()?;
            Ok((hits, page.next))
        })
        .await?;
    let base = format!("/search?q={}&", form_urlencoded(&q));
    let pager = paging::pager(state.forum.ids(), &base, after.is_some(), next);
    let short = q.trim().chars().count() < read::MIN_QUERY;
    respond(
        &who,
        "Search",
        html! {
            h1 { "Search" }
            form action="/search" method="get" {
                input #q type="text" name="q" value=(q) maxlength="100";
                button type="submit" { "Search" }
            }
            @if !q.trim().is_empty() {
                @if short {
                    p.muted { "Type at least " (read::MIN_QUERY) " letters to search." }
                } @else {
                    p.muted { (hits.len()) " results for “" (q) "”" @if next.is_some() { " on this page" } }
                    @for (post, title) in &hits { (post_line(post, title.as_deref())) }
                    (pager)
                }
            }
        },
    )
}

/// `text` as a URL query value.
pub fn form_urlencoded(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn post_line(post: &Post, title: Option<&str>) -> Markup {
    let excerpt: String = markdown::plain(&post.body).chars().take(160).collect();
    html! {
        div.card.hit {
            a href={ "/p/" (post.public_id) } { (title.unwrap_or("(topic)")) } " "
            span.muted { (post.kind) " · " (ago(post.created_at)) }
            p { (excerpt) }
        }
    }
}

/// `GET /u/{name}`: a member's badges (with level and what earns them) and their posts the viewer may see.
pub async fn profile(
    State(state): State<AppState>,
    who: Who,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let viewer = who.viewer();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let found = state
        .forum
        .read(move |conn| {
            let Some(profile) = read::profile(conn, viewer, &name)? else { return Ok(None) };
            let page = read::activity(conn, viewer, profile.id, after)?;
            let titles = page
                .items
                .iter()
                .map(|p| read::topic_title(conn, viewer, p.topic))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((profile, page, titles)))
        })
        .await?;
    let (profile, page, titles) = found.ok_or(WebError::NotFound)?;
    let base = format!("/u/{}?", form_urlencoded(&profile.name));
    let pager = paging::pager(state.forum.ids(), &base, after.is_some(), page.next);
    respond(
        &who,
        &profile.name,
        html! {
            h1 { (avatar(&profile.name)) (profile.name) }
            p.muted { "Member since " (date(profile.joined_at)) " · " (count(profile.posts, "post", "posts")) }
            h2 { "Badges" }
            @if profile.badges.is_empty() { p.muted { "No badges yet." } }
            ul.badges #badges { @for b in &profile.badges { (badge(&b.name, &b.level, &b.description)) } }
            h2 { "Recent posts" }
            @for (post, title) in page.items.iter().zip(&titles) { (post_line(post, title.as_deref())) }
            (pager)
        },
    )
}
