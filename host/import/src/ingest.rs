//! Ingesting events from another platform as JSON Lines: one event per line, validated as a whole file first.
//!
//! A bad line is refused with its line number and the reason, and then **nothing** from the file is applied.
//! Every line has an `id` (its external id): ingesting the same file again, or resuming after a crash, is a
//! no-op for what was already applied. The format is documented in docs/walkthrough.md (with
//! `tests/walkthrough/community.jsonl` as an example).
//! The check foresees every refusal the forum can make, and the lines are then applied in one transaction, so a
//! file is applied whole or not at all.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::OptionalExtension;
use serde::Deserialize;

use cadre_core::Forum;
use cadre_core::forum::{ForumError, ImportedPost, MemberId};
use cadre_model::{Attribute, AttributeValue, ExternalEvent, PostKind};

/// Longest line accepted (a post body is at most 64 KiB, plus the JSON around it). A longer line stops the read
/// there: the file is refused with that line's number, whatever follows (`/dev/zero` is one endless line).
pub const MAX_LINE: usize = 80 << 10;

/// Largest file read: 1 GiB (about ten million events). The file is read a line at a time and stops at this size
/// (a pipe or device that never ends), so memory holds the checked lines, never the raw file.
pub const MAX_FILE: u64 = 1 << 30;

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
    /// Something that happened to a member outside the forum (contract 0.2.0's external event):
    /// `{"id":"exam-17","type":"external","member":"u1","kind":"certification.passed","at":"…","source":"lms",
    /// "attributes":{"exam":"admin","score":87}}`. `id` is the reporting system's id for it: the same `source` and
    /// `id` are delivered once, however often they are sent.
    External {
        /// The reporting system's id for the event.
        id: String,
        /// The member's external id.
        member: String,
        /// What happened (`certification.passed`, `event.attended`, `org.example/thing`).
        kind: String,
        /// When it happened.
        at: String,
        /// The reporting system (`lms`, `crm`); absent: `ingest`.
        #[serde(default)]
        source: Option<String>,
        /// Named values: strings, integers or booleans.
        #[serde(default)]
        attributes: serde_json::Map<String, serde_json::Value>,
    },
}

/// The source an ingested external event is recorded under when its line names none.
pub const DEFAULT_SOURCE: &str = "ingest";

/// The model's external event for an `external` line, with `member` as the member; every problem named.
pub fn external_event(line: &Line, member: MemberId) -> Result<ExternalEvent, Vec<String>> {
    let Line::External { id, kind, at, source, attributes, .. } = line else {
        return Err(vec!["not an external line".into()]);
    };
    let mut problems = Vec::new();
    let at = time(at).map_err(|e| problems.push(e)).unwrap_or(0);
    let mut attrs = Vec::new();
    for (name, value) in attributes {
        let value = match value {
            serde_json::Value::String(text) => AttributeValue::Text(text.clone()),
            serde_json::Value::Bool(b) => AttributeValue::Boolean(*b),
            serde_json::Value::Number(n) if n.is_i64() => AttributeValue::Integer(n.as_i64().unwrap_or(0)),
            other => {
                problems.push(format!("attribute {name:?}: {other} is not a string, a whole number or a boolean"));
                continue;
            }
        };
        attrs.push(Attribute { name: name.clone(), value });
    }
    let event = ExternalEvent {
        kind: kind.clone(),
        member,
        at,
        source: Some(source.clone().unwrap_or_else(|| DEFAULT_SOURCE.to_owned())),
        external_id: Some(id.clone()),
        attributes: attrs,
    };
    problems.extend(event.check());
    if problems.is_empty() { Ok(event) } else { Err(problems) }
}

impl Line {
    /// The line's id (every line type has one).
    pub fn id(&self) -> &str {
        match self {
            Line::Member { id, .. }
            | Line::Category { id, .. }
            | Line::Question { id, .. }
            | Line::Answer { id, .. }
            | Line::Reply { id, .. }
            | Line::Like { id, .. }
            | Line::Unlike { id, .. }
            | Line::Accept { id, .. }
            | Line::Unaccept { id, .. }
            | Line::External { id, .. } => id,
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
    /// Applying failed (the database); the transaction was rolled back, so nothing from the file was applied.
    #[error("{path} line {line}: {source}; nothing from the file was applied")]
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
    /// Events applied now that the program failed on (each is a dead letter: `cadre deadletters list`).
    pub program_failures: usize,
}

/// How far ahead of this machine's clock a time may be: a day (clocks and time zones differ; history does not
/// happen next year). A time in year 9999 is a typo or a placeholder, and would sort after everything real.
const MAX_AHEAD_MS: i64 = 86_400_000;

fn time(text: &str) -> Result<i64, String> {
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{text}` is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z): {e}"))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    if at > now + MAX_AHEAD_MS {
        return Err(format!("`{text}` is in the future (history is ingested after it happens)"));
    }
    if at < 0 {
        return Err(format!("`{text}` is before 1970"));
    }
    Ok(at)
}

/// A problem if something at `at` (a like, an answer, an accept) is earlier than the post it concerns.
fn not_before(problems: &mut Vec<String>, at: &str, post: &str, facts: Option<&PostFacts>) {
    if let (Ok(when), Some(facts)) = (time(at), facts)
        && when < facts.at
    {
        problems.push(format!("`{at}` is before post {post:?} was created"));
    }
}

/// Read and check the whole file: syntax, times, unique ids, that every reference names something defined earlier
/// in the file or already in the forum, and every refusal the forum would make when the lines are applied in order
/// (a second like of the same post by the same member, removing a like twice, withdrawing an accept that is not in
/// force, …), so that a file that passes is applied whole. Lines whose id the forum already holds are no-ops.
pub fn validate(forum: &Forum, path: &Path) -> Result<Vec<(usize, Line)>, IngestError> {
    let mut lines = Vec::new();
    check_file(forum, path, |number, line| lines.push((number, line)))?;
    Ok(lines)
}

/// [`validate`], handing each checked line to `keep` instead of holding them all (the ingest reads the file again
/// to apply it, so its memory is the check's index, not the file). Returns the SHA-256 of the bytes read, so the
/// second read can tell that the file did not change in between.
fn check_file(forum: &Forum, path: &Path, mut keep: impl FnMut(usize, Line)) -> Result<[u8; 32], IngestError> {
    use sha2::Digest;
    use std::io::{BufRead, Read};
    let name = path.display().to_string();
    let read_error = |source| IngestError::Read { path: name.clone(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    if file.metadata().map_err(read_error)?.len() > MAX_FILE {
        return Err(IngestError::Invalid {
            path: name,
            errors: vec![format!(
                "the file is larger than {MAX_FILE} bytes (1 GiB, the most one ingest reads); split it"
            )],
        });
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file).take(MAX_FILE + 1);
    let mut errors = Vec::new();
    let mut digest = sha2::Sha256::new();
    let mut check = Checker::new(forum);
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        // At most one byte past the limit per line: enough to know it is too long, never the whole of it.
        let read = (&mut reader).take(MAX_LINE as u64 + 2).read_until(b'\n', &mut buffer).map_err(read_error)?;
        if read == 0 {
            break;
        }
        digest.update(&buffer);
        number += 1;
        if reader.limit() == 0 {
            errors.push(format!("line {number}: the file goes on past {MAX_FILE} bytes (1 GiB, the most one ingest reads); stopped reading"));
            break;
        }
        let raw = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            errors.push(format!(
                "line {number}: longer than {MAX_LINE} bytes (80 KiB, the limit for one line); stopped reading"
            ));
            break;
        }
        // A byte-order mark some editors put at the start of a UTF-8 file is not part of the first line.
        let raw = if number == 1 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
        let raw = match std::str::from_utf8(raw) {
            Ok(raw) => raw,
            Err(e) => {
                errors.push(format!("line {number}: not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1));
                continue;
            }
        };
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(line) => line,
            Err(e) => {
                errors.push(format!("line {number}: {e}"));
                continue;
            }
        };
        let problems = check.line(number, &line).map_err(|e| IngestError::Read {
            path: name.clone(),
            source: std::io::Error::other(format!("reading the forum database: {e}")),
        })?;
        if problems.is_empty() {
            keep(number, line);
        } else {
            errors.extend(problems.into_iter().map(|p| format!("line {number}: {p}")));
        }
        if errors.len() >= 100 {
            errors.push("… (stopped after 100 errors)".into());
            break;
        }
    }
    if errors.is_empty() { Ok(digest.finalize().into()) } else { Err(IngestError::Invalid { path: name, errors }) }
}

/// A post as the check sees it: its kind, its topic and whether the topic's asker is known. Posts are keyed
/// `file:ID` when a line of the file creates them and `db:N` when the forum holds them.
#[derive(Debug, Clone)]
struct PostFacts {
    key: String,
    kind: &'static str,
    topic: String,
    asker_known: bool,
    /// When it was created (ms); `i64::MIN` when its own line's time was refused.
    at: i64,
}

/// A like as the check sees it.
#[derive(Debug, Clone)]
struct LikeFacts {
    /// (post key, liker's external id), when the liker is known.
    pair: Option<(String, String)>,
    /// `Some(line)` while in force (0: in the forum already), `None` once removed.
    active: Option<usize>,
    /// The line that removed it (0: removed in the forum already).
    removed_at_line: usize,
}

/// The forum's state as the file's lines change it, read from the database where the file does not say.
struct Checker<'a> {
    forum: &'a Forum,
    ids: HashSet<String>,
    members: HashSet<String>,
    names: HashSet<String>,
    categories: HashSet<String>,
    posts: HashMap<String, PostFacts>,
    likes: HashMap<String, LikeFacts>,
    /// Likes in force by (post key, liker): the line that made it (0: in the forum), `None`: none in force.
    pairs: HashMap<(String, String), Option<usize>>,
    /// The accepted answer (post key) of each question (topic key), as the file left it.
    accepted: HashMap<String, Option<String>>,
}

fn kind_of(stored: &str) -> &'static str {
    match stored {
        "question" => "question",
        "answer" => "answer",
        _ => "reply",
    }
}

impl<'a> Checker<'a> {
    fn new(forum: &'a Forum) -> Checker<'a> {
        Checker {
            forum,
            ids: HashSet::new(),
            members: HashSet::new(),
            names: HashSet::new(),
            categories: HashSet::new(),
            posts: HashMap::new(),
            likes: HashMap::new(),
            pairs: HashMap::new(),
            accepted: HashMap::new(),
        }
    }

    fn exists(&self, sql: &str, value: &str) -> rusqlite::Result<bool> {
        Ok(self.forum.conn().query_row(sql, [value], |_| Ok(())).optional()?.is_some())
    }

    fn member_known(&self, id: &str) -> rusqlite::Result<bool> {
        Ok(self.members.contains(id) || self.exists("SELECT 1 FROM members WHERE external_id = ?1", id)?)
    }

    fn post(&self, id: &str) -> rusqlite::Result<Option<PostFacts>> {
        if let Some(post) = self.posts.get(id) {
            return Ok(Some(post.clone()));
        }
        self.forum
            .conn()
            .query_row(
                "SELECT p.id, p.kind, q.id, q.author_id IS NOT NULL, p.created_at FROM posts p \
                 JOIN posts q ON q.id = p.topic_id WHERE p.external_id = ?1",
                [id],
                |row| {
                    Ok(PostFacts {
                        key: format!("db:{}", row.get::<_, i64>(0)?),
                        kind: kind_of(&row.get::<_, String>(1)?),
                        topic: format!("db:{}", row.get::<_, i64>(2)?),
                        asker_known: row.get(3)?,
                        at: row.get(4)?,
                    })
                },
            )
            .optional()
    }

    fn like(&self, id: &str) -> rusqlite::Result<Option<LikeFacts>> {
        if let Some(like) = self.likes.get(id) {
            return Ok(Some(like.clone()));
        }
        self.forum
            .conn()
            .query_row(
                "SELECT l.post_id, m.external_id, l.removed_at IS NULL FROM likes l \
                 LEFT JOIN members m ON m.id = l.liker_id WHERE l.external_id = ?1",
                [id],
                |row| {
                    let post = format!("db:{}", row.get::<_, i64>(0)?);
                    let active: bool = row.get(2)?;
                    Ok(LikeFacts {
                        pair: row.get::<_, Option<String>>(1)?.map(|liker| (post, liker)),
                        active: active.then_some(0),
                        removed_at_line: 0,
                    })
                },
            )
            .optional()
    }

    /// The line of the like in force for this pair (0: in the forum), if any.
    fn pair_active(&self, pair: &(String, String)) -> rusqlite::Result<Option<usize>> {
        if let Some(state) = self.pairs.get(pair) {
            return Ok(*state);
        }
        let Some(post) = pair.0.strip_prefix("db:") else { return Ok(None) };
        let found = self
            .forum
            .conn()
            .query_row(
                "SELECT 1 FROM likes l JOIN members m ON m.id = l.liker_id \
                 WHERE l.post_id = ?1 AND m.external_id = ?2 AND l.removed_at IS NULL",
                rusqlite::params![post.parse::<i64>().unwrap_or(-1), pair.1],
                |_| Ok(()),
            )
            .optional()?;
        Ok(found.map(|()| 0))
    }

    /// The accepted answer (post key) of a question (topic key).
    fn accepted(&self, topic: &str) -> rusqlite::Result<Option<String>> {
        if let Some(answer) = self.accepted.get(topic) {
            return Ok(answer.clone());
        }
        let Some(question) = topic.strip_prefix("db:") else { return Ok(None) };
        self.forum
            .conn()
            .query_row(
                "SELECT answer_id FROM accepts WHERE question_id = ?1",
                [question.parse::<i64>().unwrap_or(-1)],
                |row| Ok(format!("db:{}", row.get::<_, i64>(0)?)),
            )
            .optional()
    }

    /// The forum already holds this line's event: which kind it was recorded as, if any.
    fn recorded_kind(&self, id: &str) -> rusqlite::Result<Option<String>> {
        self.forum.conn().query_row("SELECT kind FROM events WHERE external_id = ?1", [id], |row| row.get(0)).optional()
    }

    /// What is wrong with one line, given the lines before it (empty: nothing), and what it changes.
    fn line(&mut self, number: usize, line: &Line) -> rusqlite::Result<Vec<String>> {
        let mut problems = Vec::new();
        if !self.ids.insert(line.id().to_owned()) {
            problems.push(format!("the id {:?} is used twice in the file", line.id()));
            return Ok(problems);
        }
        // Already applied (ingesting the same file again, or one that overlaps): a no-op, if it is the same kind.
        let expected_kind = match line {
            Line::Member { .. } | Line::Category { .. } => None,
            Line::Question { .. } | Line::Answer { .. } | Line::Reply { .. } => Some("post-created"),
            Line::Like { .. } => Some("like-added"),
            Line::Unlike { .. } => Some("like-removed"),
            Line::Accept { .. } => Some("answer-accepted"),
            Line::Unaccept { .. } => Some("answer-unaccepted"),
            Line::External { .. } => {
                // Logged under its source and id, not the line's id: a replay is a no-op, whatever file it is in.
                return match external_event(line, 0) {
                    Ok(event) => {
                        let key = cadre_core::events::dedup_key(&event);
                        if self.recorded_kind(&key)?.is_none()
                            && let Line::External { member: who, .. } = line
                            && !self.member_known(who)?
                        {
                            problems.push(format!("no member {who:?} (define it with a \"member\" line first)"));
                        }
                        Ok(problems)
                    }
                    Err(found) => Ok(found),
                };
            }
        };
        if let Some(expected) = expected_kind
            && let Some(recorded) = self.recorded_kind(line.id())?
        {
            if recorded != expected {
                problems.push(format!(
                    "the forum already holds an event with the id {:?}, and it is a {recorded} event, not a {expected} \
                     one; give this line another id",
                    line.id()
                ));
            }
            return Ok(problems);
        }
        let member = |checker: &Self, problems: &mut Vec<String>, id: &Option<String>| -> rusqlite::Result<()> {
            if let Some(id) = id
                && !checker.member_known(id)?
            {
                problems.push(format!("no member {id:?} (define it with a \"member\" line first)"));
            }
            Ok(())
        };
        let post = |checker: &Self, problems: &mut Vec<String>, id: &str| -> rusqlite::Result<Option<PostFacts>> {
            let found = checker.post(id)?;
            if found.is_none() {
                problems.push(format!("no post {id:?} (it must come earlier in the file or be ingested already)"));
            }
            Ok(found)
        };
        match line {
            Line::Member { id, name, joined } => {
                time(joined).map_err(|e| problems.push(e)).ok();
                if self.exists("SELECT 1 FROM members WHERE external_id = ?1", id)? {
                    return Ok(problems);
                }
                if let Some(problem) = cadre_core::forum::names::name_problem(name) {
                    problems.push(problem);
                } else {
                    // As the forum names an imported member whose name is taken: the external id appended.
                    let taken = |n: &str| -> rusqlite::Result<bool> {
                        Ok(self.names.contains(n) || self.exists("SELECT 1 FROM members WHERE name = ?1", n)?)
                    };
                    let mut given = name.clone();
                    if taken(&given)? {
                        given = format!("{name}#{id}");
                        if taken(&given)? {
                            problems.push(format!(
                                "the name {name:?} is taken, and so is {given:?}, the name the forum would give \
                                 this member instead; choose another name"
                            ));
                        }
                    }
                    if problems.is_empty() {
                        self.names.insert(given);
                    }
                }
                self.members.insert(id.clone());
            }
            Line::Category { slug, name, .. } => {
                if slug.is_empty() || name.is_empty() {
                    problems.push("a category needs a slug and a name".into());
                } else {
                    self.categories.insert(slug.clone());
                }
            }
            Line::Question { id, author, category, title, at, .. } => {
                member(self, &mut problems, author)?;
                if !self.categories.contains(category)
                    && !self.exists("SELECT 1 FROM categories WHERE slug = ?1", category)?
                {
                    problems.push(format!("no category {category:?}"));
                }
                if title.trim().is_empty() {
                    problems.push("a question needs a title".into());
                }
                let created = time(at).map_err(|e| problems.push(e)).unwrap_or(i64::MIN);
                let key = format!("file:{id}");
                let facts = PostFacts {
                    key: key.clone(),
                    kind: "question",
                    topic: key,
                    asker_known: author.is_some(),
                    at: created,
                };
                self.posts.insert(id.clone(), facts);
            }
            Line::Answer { id, author, question: parent, at, .. } | Line::Reply { id, author, parent, at, .. } => {
                let answer = matches!(line, Line::Answer { .. });
                member(self, &mut problems, author)?;
                let parent_facts = post(self, &mut problems, parent)?;
                if answer && parent_facts.as_ref().is_some_and(|p| p.kind != "question") {
                    problems.push(format!("{parent:?} is not a question"));
                }
                let created = time(at).map_err(|e| problems.push(e)).unwrap_or(i64::MIN);
                not_before(&mut problems, at, parent, parent_facts.as_ref());
                if let Some(parent) = parent_facts {
                    let facts = PostFacts {
                        key: format!("file:{id}"),
                        kind: if answer { "answer" } else { "reply" },
                        topic: parent.topic,
                        asker_known: parent.asker_known,
                        at: created,
                    };
                    self.posts.insert(id.clone(), facts);
                }
            }
            Line::Like { id, liker, post: target, at } => {
                member(self, &mut problems, liker)?;
                let target_facts = post(self, &mut problems, target)?;
                time(at).map_err(|e| problems.push(e)).ok();
                not_before(&mut problems, at, target, target_facts.as_ref());
                let pair = match (&target_facts, liker) {
                    (Some(facts), Some(liker)) => Some((facts.key.clone(), liker.clone())),
                    _ => None,
                };
                if let Some(pair) = &pair
                    && let Some(earlier) = self.pair_active(pair)?
                {
                    let liker = &pair.1;
                    problems.push(match earlier {
                        0 => format!(
                            "member {liker:?} already likes post {target:?} in the forum; a member likes a post once"
                        ),
                        line => format!(
                            "member {liker:?} already likes post {target:?} (line {line}); a member likes a post once, \
                             so unlike it first"
                        ),
                    });
                }
                if problems.is_empty() {
                    if let Some(pair) = &pair {
                        self.pairs.insert(pair.clone(), Some(number));
                    }
                    self.likes.insert(id.clone(), LikeFacts { pair, active: Some(number), removed_at_line: 0 });
                }
            }
            Line::Unlike { like, at, .. } => {
                time(at).map_err(|e| problems.push(e)).ok();
                match self.like(like)? {
                    None => problems.push(format!("no like {like:?}")),
                    Some(facts) if facts.active.is_none() => problems.push(match facts.removed_at_line {
                        0 => format!("the like {like:?} was already removed in the forum"),
                        line => format!("the like {like:?} was already removed (line {line})"),
                    }),
                    Some(mut facts) if problems.is_empty() => {
                        if let Some(pair) = &facts.pair {
                            self.pairs.insert(pair.clone(), None);
                        }
                        facts.active = None;
                        facts.removed_at_line = number;
                        self.likes.insert(like.clone(), facts);
                    }
                    Some(_) => {}
                }
            }
            Line::Accept { answer, at, .. } | Line::Unaccept { answer, at, .. } => {
                let accept = matches!(line, Line::Accept { .. });
                time(at).map_err(|e| problems.push(e)).ok();
                let Some(facts) = post(self, &mut problems, answer)? else { return Ok(problems) };
                not_before(&mut problems, at, answer, Some(&facts));
                if facts.kind != "answer" {
                    problems.push(format!("{answer:?} is not an answer"));
                    return Ok(problems);
                }
                if !accept {
                    if !facts.asker_known {
                        problems.push(format!(
                            "the question of answer {answer:?} has no known asker (deleted account), so nobody can \
                             withdraw its accept"
                        ));
                    } else if self.accepted(&facts.topic)?.as_deref() != Some(facts.key.as_str()) {
                        problems.push(format!(
                            "answer {answer:?} is not the accepted answer of its question at this point, so its \
                             accept cannot be withdrawn"
                        ));
                    }
                }
                if problems.is_empty() {
                    self.accepted.insert(facts.topic, accept.then_some(facts.key));
                }
            }
            // Checked above, before the lookup of already-recorded events.
            Line::External { .. } => {}
        }
        Ok(problems)
    }
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

/// Apply one line (checked by [`validate`]) in a transaction of its own: whether it was new, and whether the
/// program failed on its event (it is then a dead letter). `cadre plugin test` applies a file line by line with it
/// to show each event's effects; [`ingest`] applies a whole file in one transaction.
pub fn apply_line(forum: &mut Forum, line: &Line) -> Result<(bool, bool), ForumError> {
    let time = |text: &str| time(text).map_err(ForumError::Invalid);
    let outcome = match line {
        Line::Member { id, name, joined } => {
            let existed =
                forum.conn().query_row("SELECT 1 FROM members WHERE external_id = ?1", [id], |_| Ok(())).is_ok();
            forum.import_member(id, name, time(joined)?)?;
            return Ok((!existed, false));
        }
        Line::Category { slug, name, tier, .. } => {
            let existed =
                forum.conn().query_row("SELECT 1 FROM categories WHERE slug = ?1", [slug], |_| Ok(())).is_ok();
            forum.ensure_category(slug, name, tier.as_deref())?;
            return Ok((!existed, false));
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
        Line::External { member, .. } => {
            let member = member_id(forum, &Some(member.clone()))?.expect("a named member");
            let event = external_event(line, member).map_err(|problems| ForumError::Invalid(problems.join("; ")))?;
            forum.record_external(event)?
        }
    };
    let failed = matches!(outcome.delivery, cadre_core::events::Delivery::DeadLettered { .. });
    Ok((!outcome.duplicate, failed))
}

/// Validate the whole file, then apply it in one transaction: all of it, or (should the database fail) none. The
/// check keeps only its index of ids; the lines are read again to be applied, and the file must read the same
/// both times (its SHA-256), else nothing is applied.
pub fn ingest(forum: &mut Forum, path: &Path) -> Result<IngestReport, IngestError> {
    let mut count = 0;
    let checked = check_file(forum, path, |_, _| count += 1)?;
    let name = path.display().to_string();
    let mut report = IngestReport { lines: count, ..IngestReport::default() };
    let mut failed_line = 0;
    let applied = forum.batch(|forum| {
        use sha2::Digest;
        use std::io::BufRead;
        let changed = || ForumError::Invalid(format!("{name} changed while it was being ingested; nothing applied"));
        let file = std::fs::File::open(path).map_err(|e| ForumError::Invalid(format!("cannot read {name}: {e}")))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let (mut applied, mut failures) = (0, 0);
        let (mut buffer, mut number, mut digest) = (Vec::new(), 0, sha2::Sha256::new());
        loop {
            buffer.clear();
            // The first read stopped every line over the limit: a longer one now means the file changed.
            let read = std::io::Read::take(&mut reader, MAX_LINE as u64 + 2)
                .read_until(b'\n', &mut buffer)
                .map_err(|e| ForumError::Invalid(format!("cannot read {name}: {e}")))?;
            if read == 0 {
                break;
            }
            digest.update(&buffer);
            number += 1;
            let raw = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let raw = if number == 1 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
            let raw = std::str::from_utf8(raw).map_err(|_| changed())?;
            if raw.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(raw).map_err(|_| changed())?;
            failed_line = number;
            let (new, failed) = apply_line(forum, &line)?;
            applied += usize::from(new);
            failures += usize::from(failed);
        }
        if <[u8; 32]>::from(digest.finalize()) != checked {
            // Rolled back with the rest of the transaction.
            return Err(changed());
        }
        Ok((applied, failures))
    });
    match applied {
        Ok((applied, failures)) => (report.applied, report.program_failures) = (applied, failures),
        Err(source) => return Err(IngestError::Apply { path: name, line: failed_line, source }),
    }
    report.already_applied = report.lines - report.applied;
    Ok(report)
}
