//! Ingesting events from another platform as JSON Lines: one event per line, validated as a whole file first.
//!
//! A bad line is refused with its line number and the reason, and then **nothing** from the file is applied.
//! Every line has an `id` (its external id): ingesting the same file again, or resuming after a crash, is a
//! no-op for what was already applied. The format is documented in the README (and `tests/ingest-example.jsonl`).
//! Lines are applied in batches of [`BATCH`] events, each batch one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::forum::{Forum, ForumError, ImportedPost, MemberId};
use crate::runtime::bindings::PostKind;

/// Events per transaction while applying.
pub const BATCH: usize = 500;
/// Longest line accepted (a post body is at most 64 KiB, plus the JSON around it).
const MAX_LINE: usize = 80 << 10;

/// One line of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Line {
    /// A member: `{"id":"u1","type":"member","name":"ada","joined":"2024-01-02T10:00:00Z"}`.
    Member {
        /// External id.
        id: String,
        /// Display name.
        name: String,
        /// When they joined (RFC 3339).
        joined: String,
    },
    /// A category: `{"id":"c1","type":"category","slug":"general","name":"General"}` (`"tier"` makes it private).
    Category {
        /// External id.
        id: String,
        /// URL slug.
        slug: String,
        /// Display name.
        name: String,
        /// The tier whose members may see it.
        #[serde(default)]
        tier: Option<String>,
    },
    /// A question in a category (by slug).
    Question {
        /// External id.
        id: String,
        /// The author's external id (`null`: deleted account).
        author: Option<String>,
        /// The category slug.
        category: String,
        /// Title.
        title: String,
        /// Text.
        #[serde(default)]
        body: String,
        /// When (RFC 3339).
        at: String,
    },
    /// An answer to a question (by external id).
    Answer {
        /// External id.
        id: String,
        /// The author's external id.
        author: Option<String>,
        /// The question's external id.
        question: String,
        /// Text.
        #[serde(default)]
        body: String,
        /// When.
        at: String,
    },
    /// A reply to a post.
    Reply {
        /// External id.
        id: String,
        /// The author's external id.
        author: Option<String>,
        /// The post replied to.
        parent: String,
        /// Text.
        #[serde(default)]
        body: String,
        /// When.
        at: String,
    },
    /// A like; `liker` may be `null` when the platform hides who liked.
    Like {
        /// External id.
        id: String,
        /// The liker's external id.
        liker: Option<String>,
        /// The post's external id.
        post: String,
        /// When.
        at: String,
    },
    /// The removal of a like (by the like's external id).
    Unlike {
        /// External id.
        id: String,
        /// The like's external id.
        like: String,
        /// When.
        at: String,
    },
    /// An accepted answer; on a question with another accepted answer it moves the accept (the earlier answer is
    /// unaccepted first, see `Forum::import_accept`).
    Accept {
        /// External id.
        id: String,
        /// The answer's external id.
        answer: String,
        /// When.
        at: String,
    },
    /// An acceptance withdrawn.
    Unaccept {
        /// External id.
        id: String,
        /// The answer's external id.
        answer: String,
        /// When.
        at: String,
    },
}

impl Line {
    fn id(&self) -> &str {
        match self {
            Line::Member { id, .. }
            | Line::Category { id, .. }
            | Line::Question { id, .. }
            | Line::Answer { id, .. }
            | Line::Reply { id, .. }
            | Line::Like { id, .. }
            | Line::Unlike { id, .. }
            | Line::Accept { id, .. }
            | Line::Unaccept { id, .. } => id,
        }
    }
}

/// Why a file was refused: every bad line, with its number.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Lines were refused; nothing was applied.
    #[error("{path}: {} bad line(s), nothing applied:\n{}", .errors.len(), .errors.join("\n"))]
    Invalid {
        /// The file.
        path: String,
        /// `line N: reason`, one per bad line (at most 100).
        errors: Vec<String>,
    },
    /// Applying failed (the database); what was applied before stays, and ingesting again resumes.
    #[error("{path} line {line}: {source}")]
    Apply {
        /// The file.
        path: String,
        /// The line.
        line: usize,
        /// Why.
        source: ForumError,
    },
}

/// What an ingest did.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct IngestReport {
    /// Lines in the file.
    pub lines: usize,
    /// Events applied now.
    pub applied: usize,
    /// Lines already applied before (same external id).
    pub already_applied: usize,
}

fn time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{text}` is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z): {e}"))
}

/// Read and check the whole file: syntax, times, unique ids, and that every reference names something defined
/// earlier in the file or already in the forum.
pub fn validate(forum: &Forum, path: &Path) -> Result<Vec<(usize, Line)>, IngestError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| IngestError::Read { path: name.clone(), source })?;
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let (mut ids, mut members, mut categories, mut posts, mut likes) =
        (HashSet::new(), HashSet::new(), HashSet::new(), HashMap::new(), HashSet::new());
    let known = |sql: &str, id: &str| -> bool { forum.conn().query_row(sql, [id], |_| Ok(())).is_ok() };
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if raw.len() > MAX_LINE {
            errors.push(format!("line {number}: longer than {MAX_LINE} bytes"));
            continue;
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(line) => line,
            Err(e) => {
                errors.push(format!("line {number}: {e}"));
                continue;
            }
        };
        let mut problems = Vec::new();
        if !ids.insert(line.id().to_owned()) {
            problems.push(format!("the id {:?} is used twice in the file", line.id()));
        }
        let member = |problems: &mut Vec<String>, id: &Option<String>| {
            if let Some(id) = id
                && !members.contains(id)
                && !known("SELECT 1 FROM members WHERE external_id = ?1", id)
            {
                problems.push(format!("no member {id:?} (define it with a \"member\" line first)"));
            }
        };
        let post_kind = |problems: &mut Vec<String>, id: &str| -> Option<&'static str> {
            if let Some(kind) = posts.get(id) {
                return Some(*kind);
            }
            let kind: Option<String> =
                forum.conn().query_row("SELECT kind FROM posts WHERE external_id = ?1", [id], |r| r.get(0)).ok();
            match kind.as_deref() {
                Some("question") => Some("question"),
                Some("answer") => Some("answer"),
                Some(_) => Some("reply"),
                None => {
                    problems.push(format!("no post {id:?} (it must come earlier in the file or be ingested already)"));
                    None
                }
            }
        };
        match &line {
            Line::Member { id, name, joined } => {
                if name.trim().is_empty() || name.len() > 64 {
                    problems.push("a member name needs 1 to 64 characters".into());
                }
                time(joined).map_err(|e| problems.push(e)).ok();
                members.insert(id.clone());
            }
            Line::Category { slug, name, .. } => {
                if slug.is_empty() || name.is_empty() {
                    problems.push("a category needs a slug and a name".into());
                }
                categories.insert(slug.clone());
            }
            Line::Question { id, author, category, title, at, .. } => {
                member(&mut problems, author);
                if !categories.contains(category) && !known("SELECT 1 FROM categories WHERE slug = ?1", category) {
                    problems.push(format!("no category {category:?}"));
                }
                if title.trim().is_empty() {
                    problems.push("a question needs a title".into());
                }
                time(at).map_err(|e| problems.push(e)).ok();
                posts.insert(id.clone(), "question");
            }
            Line::Answer { id, author, question, at, .. } => {
                member(&mut problems, author);
                if let Some(kind) = post_kind(&mut problems, question)
                    && kind != "question"
                {
                    problems.push(format!("{question:?} is not a question"));
                }
                time(at).map_err(|e| problems.push(e)).ok();
                posts.insert(id.clone(), "answer");
            }
            Line::Reply { id, author, parent, at, .. } => {
                member(&mut problems, author);
                post_kind(&mut problems, parent);
                time(at).map_err(|e| problems.push(e)).ok();
                posts.insert(id.clone(), "reply");
            }
            Line::Like { id, liker, post, at } => {
                member(&mut problems, liker);
                post_kind(&mut problems, post);
                time(at).map_err(|e| problems.push(e)).ok();
                likes.insert(id.clone());
            }
            Line::Unlike { like, at, .. } => {
                if !likes.contains(like) && !known("SELECT 1 FROM likes WHERE external_id = ?1", like) {
                    problems.push(format!("no like {like:?}"));
                }
                time(at).map_err(|e| problems.push(e)).ok();
            }
            Line::Accept { answer, at, .. } | Line::Unaccept { answer, at, .. } => {
                if let Some(kind) = post_kind(&mut problems, answer)
                    && kind != "answer"
                {
                    problems.push(format!("{answer:?} is not an answer"));
                }
                time(at).map_err(|e| problems.push(e)).ok();
            }
        }
        if problems.is_empty() {
            lines.push((number, line));
        } else {
            errors.extend(problems.into_iter().map(|p| format!("line {number}: {p}")));
        }
        if errors.len() >= 100 {
            errors.push("… (stopped after 100 errors)".into());
            break;
        }
    }
    if errors.is_empty() { Ok(lines) } else { Err(IngestError::Invalid { path: name, errors }) }
}

fn member_id(forum: &Forum, external_id: &Option<String>) -> Result<Option<MemberId>, ForumError> {
    match external_id {
        None => Ok(None),
        Some(id) => forum
            .conn()
            .query_row("SELECT id FROM members WHERE external_id = ?1", [id], |row| row.get::<_, i64>(0))
            .map(|id| Some(id as MemberId))
            .map_err(|_| ForumError::NotFound(format!("member {id:?}"))),
    }
}

fn post(forum: &Forum, external_id: &str) -> Result<u64, ForumError> {
    forum.post_id(external_id)?.ok_or_else(|| ForumError::NotFound(format!("post {external_id:?}")))
}

fn apply_line(forum: &mut Forum, line: &Line) -> Result<bool, ForumError> {
    let time = |text: &str| time(text).map_err(ForumError::Invalid);
    let outcome = match line {
        Line::Member { id, name, joined } => {
            let existed =
                forum.conn().query_row("SELECT 1 FROM members WHERE external_id = ?1", [id], |_| Ok(())).is_ok();
            forum.import_member(id, name, time(joined)?)?;
            return Ok(!existed);
        }
        Line::Category { slug, name, tier, .. } => {
            let existed =
                forum.conn().query_row("SELECT 1 FROM categories WHERE slug = ?1", [slug], |_| Ok(())).is_ok();
            forum.ensure_category(slug, name, tier.as_deref())?;
            return Ok(!existed);
        }
        Line::Question { id, author, category, title, body, at } => {
            let category = forum
                .conn()
                .query_row("SELECT id FROM categories WHERE slug = ?1", [category], |row| row.get::<_, i64>(0))?;
            let post = ImportedPost {
                kind: PostKind::Question,
                author: member_id(forum, author)?,
                parent: None,
                category: Some(category as u64),
                title: Some(title.clone()),
                body: body.clone(),
                at: time(at)?,
                wiki_since: None,
            };
            forum.import_post(id, post)?.1
        }
        Line::Answer { id, author, question: parent, body, at } | Line::Reply { id, author, parent, body, at } => {
            let kind = if matches!(line, Line::Answer { .. }) { PostKind::Answer } else { PostKind::Reply };
            let post = ImportedPost {
                kind,
                author: member_id(forum, author)?,
                parent: Some(post(forum, parent)?),
                category: None,
                title: None,
                body: body.clone(),
                at: time(at)?,
                wiki_since: None,
            };
            forum.import_post(id, post)?.1
        }
        Line::Like { id, liker, post: target, at } => {
            let liker = member_id(forum, liker)?;
            let target = post(forum, target)?;
            forum.import_like(id, liker, target, time(at)?)?
        }
        Line::Unlike { id, like, at } => forum.import_unlike(id, like, time(at)?)?,
        Line::Accept { id, answer, at } => {
            let answer = post(forum, answer)?;
            forum.import_accept(id, answer, time(at)?)?
        }
        Line::Unaccept { id, answer, at } => {
            let answer = post(forum, answer)?;
            forum.import_unaccept(id, answer, time(at)?)?
        }
    };
    Ok(!outcome.duplicate)
}

/// Validate the whole file, then apply it in batches.
pub fn ingest(forum: &mut Forum, path: &Path) -> Result<IngestReport, IngestError> {
    let lines = validate(forum, path)?;
    let name = path.display().to_string();
    let mut report = IngestReport { lines: lines.len(), ..IngestReport::default() };
    for chunk in lines.chunks(BATCH) {
        let mut failed_line = 0;
        let applied = forum.batch(|forum| {
            let mut applied = 0;
            for (number, line) in chunk {
                failed_line = *number;
                applied += usize::from(apply_line(forum, line)?);
            }
            Ok(applied)
        });
        match applied {
            Ok(applied) => report.applied += applied,
            Err(source) => return Err(IngestError::Apply { path: name, line: failed_line, source }),
        }
    }
    report.already_applied = report.lines - report.applied;
    Ok(report)
}
