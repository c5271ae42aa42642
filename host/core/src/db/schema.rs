//! The schema, as an append-only list of migrations: migration *n* brings a database from version *n* to *n + 1*
//! (`PRAGMA user_version`). A shipped migration is never edited; changes are new entries.

/// Every migration, in order.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13];

/// The version whose migration is followed by a step in Rust ([`crate::forum::names::report_duplicate_names`]:
/// SQLite has no Unicode normalisation to compute the keys with).
pub const NAME_KEYS: i64 = 8;

/// Version 1: the forum, the event log, the program's state and its projections (points, ledger, badges, access,
/// queue), and the audit log.
const V1: &str = r#"
-- Forum -----------------------------------------------------------------------------------------------------------
CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    joined_at     INTEGER NOT NULL,              -- ms since epoch, UTC
    is_moderator  INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,                          -- argon2 PHC string; NULL for imported members
    external_id   TEXT UNIQUE                    -- id on the platform it was imported from
);

CREATE TABLE categories (
    id    INTEGER PRIMARY KEY,
    slug  TEXT NOT NULL UNIQUE,
    name  TEXT NOT NULL,
    tier  TEXT                                   -- NULL: public; otherwise only members with access to this tier
);

CREATE TABLE posts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('question', 'answer', 'reply')),
    topic_id     INTEGER NOT NULL,               -- the question that opens the topic (itself, for a question)
    parent_id    INTEGER REFERENCES posts(id),
    category_id  INTEGER NOT NULL REFERENCES categories(id),
    author_id    INTEGER REFERENCES members(id), -- NULL: deleted account
    title        TEXT,                           -- questions only
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    wiki_since   INTEGER,                        -- community wiki from this time on
    external_id  TEXT UNIQUE
);
CREATE INDEX posts_topic ON posts(topic_id, created_at);
CREATE INDEX posts_category ON posts(category_id, created_at);
CREATE INDEX posts_author ON posts(author_id, created_at);

CREATE TABLE likes (
    id          INTEGER PRIMARY KEY,
    post_id     INTEGER NOT NULL REFERENCES posts(id),
    liker_id    INTEGER REFERENCES members(id),  -- NULL: unknown liker (imported history)
    created_at  INTEGER NOT NULL,
    removed_at  INTEGER
);
CREATE UNIQUE INDEX likes_once ON likes(post_id, liker_id) WHERE removed_at IS NULL AND liker_id IS NOT NULL;

CREATE TABLE accepts (
    question_id  INTEGER PRIMARY KEY REFERENCES posts(id),
    answer_id    INTEGER NOT NULL REFERENCES posts(id),
    accepted_at  INTEGER NOT NULL
);

-- The event log: the source of truth --------------------------------------------------------------------------
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,            -- the order of the log
    external_id  TEXT NOT NULL UNIQUE,           -- a re-delivered event with the same id is a no-op
    kind         TEXT NOT NULL,
    at           INTEGER NOT NULL,
    payload      TEXT NOT NULL,                  -- JSON of the event as delivered to the program
    members      TEXT NOT NULL                   -- space-separated members it concerns (ordering of dead letters)
);

-- The installed program ------------------------------------------------------------------------------------------
CREATE TABLE plugin_versions (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    hash          TEXT NOT NULL,
    wasm          BLOB NOT NULL,
    installed_at  INTEGER NOT NULL,
    installed_by  TEXT NOT NULL
);

CREATE TABLE program (
    singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
    active_version   INTEGER NOT NULL REFERENCES plugin_versions(id),
    previous_version INTEGER REFERENCES plugin_versions(id),
    settings         TEXT NOT NULL DEFAULT '',
    processed_up_to  INTEGER NOT NULL DEFAULT 0, -- every event with id <= this was delivered (or dead-lettered)
    quarantined      INTEGER NOT NULL DEFAULT 0,
    failures_in_row  INTEGER NOT NULL DEFAULT 0,
    declaration      TEXT NOT NULL DEFAULT '{}'  -- JSON: badges and tiers the settings declare
);

CREATE TABLE kv (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE kv_size (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    bytes      INTEGER NOT NULL
);
INSERT INTO kv_size VALUES (1, 0);

CREATE TABLE dead_letters (
    event_id   INTEGER PRIMARY KEY REFERENCES events(id),
    error      TEXT NOT NULL,
    failed_at  INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1
);

-- What the program decided (projections of the log) ------------------------------------------------------------
CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL,
    delta      INTEGER NOT NULL,
    event_id   INTEGER REFERENCES events(id),
    rule       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX ledger_member ON ledger(member_id, id);

CREATE TABLE points (
    member_id  INTEGER PRIMARY KEY,
    total      INTEGER NOT NULL
);

CREATE TABLE badges (
    member_id    INTEGER NOT NULL,
    badge        TEXT NOT NULL,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL,
    description  TEXT NOT NULL,
    granted_at   INTEGER NOT NULL,
    PRIMARY KEY (member_id, badge)
);

CREATE TABLE access (
    member_id   INTEGER NOT NULL,
    tier        TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('earned', 'approved', 'invited')),
    granted_at  INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (member_id, tier)
);

CREATE TABLE nominations (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL,
    tier        TEXT NOT NULL,
    evidence    TEXT NOT NULL,                   -- JSON
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at  INTEGER NOT NULL,
    event_id    INTEGER REFERENCES events(id),
    decided_at  INTEGER,
    decided_by  INTEGER,
    reason      TEXT
);
CREATE UNIQUE INDEX nominations_pending ON nominations(member_id, tier) WHERE status = 'pending';

CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER,
    topic      TEXT NOT NULL,
    message    TEXT NOT NULL,
    at         INTEGER NOT NULL,
    event_id   INTEGER REFERENCES events(id)
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,                    -- 'program cadre-superuser 0.1.0', 'moderator 3 (alice)', 'system'
    action     TEXT NOT NULL,                    -- 'grant-badge', 'revoke-access', 'settings', 'member-added', ...
    member_id  INTEGER,
    subject    TEXT NOT NULL,                    -- the badge, tier, setting or plugin concerned
    reason     TEXT NOT NULL,
    event_id   INTEGER REFERENCES events(id)
);
CREATE INDEX audit_member ON audit(member_id, id);
"#;

/// Version 2: likes imported from another platform keep their external id (so their removal can name them, even
/// when the liker is unknown).
const V2: &str = r#"
ALTER TABLE likes ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX likes_external ON likes(external_id) WHERE external_id IS NOT NULL;
"#;

/// Version 3: web sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
/// cannot be used to log in. Each session has its own CSRF token for the forms it renders.
const V3: &str = r#"
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,                -- hex SHA-256 of the cookie's token
    member_id   INTEGER NOT NULL REFERENCES members(id),
    csrf        TEXT NOT NULL,                   -- the token every state-changing request of this session carries
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_member ON sessions(member_id);
"#;

/// Version 4: the members each dead letter concerns, so that finding whether a new event must wait behind one is an
/// index lookup (it was a `LIKE` over every dead letter's event, for every event: quadratic once a member was stuck).
/// Filled from the dead letters already there; the events' `members` column, which only that `LIKE` read, is dropped.
const V4: &str = r#"
CREATE TABLE dead_letter_members (
    member_id  INTEGER NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES dead_letters(event_id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, event_id)
) WITHOUT ROWID;
CREATE INDEX dead_letter_members_event ON dead_letter_members(event_id);
WITH RECURSIVE split(event_id, member, rest) AS (
    SELECT d.event_id, '', e.members || ' ' FROM dead_letters d JOIN events e ON e.id = d.event_id
    UNION ALL
    SELECT event_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO dead_letter_members (member_id, event_id)
    SELECT CAST(member AS INTEGER), event_id FROM split WHERE member <> '';
ALTER TABLE events DROP COLUMN members;
"#;

/// Version 5: each program version remembers the version it replaced, so a rollback walks back and never forward
/// again, and where the log stood when it was installed; the program row keeps the recompute a rollback offers (the
/// events the rolled-back versions handled) until a moderator applies it. Rows already there replaced the version
/// installed before them.
const V5: &str = r#"
ALTER TABLE plugin_versions ADD COLUMN replaced INTEGER REFERENCES plugin_versions(id);
ALTER TABLE plugin_versions ADD COLUMN installed_after INTEGER NOT NULL DEFAULT 0; -- the last event in the log then
ALTER TABLE program ADD COLUMN recompute_offer TEXT;                          -- JSON, set by a rollback; NULL: none
UPDATE plugin_versions SET replaced = (SELECT MAX(o.id) FROM plugin_versions o WHERE o.id < plugin_versions.id);
UPDATE program SET previous_version = (SELECT replaced FROM plugin_versions WHERE id = program.active_version);
"#;

/// Version 6: the write-back outbox, an extension point for adapters that mirror the forum's grants to another
/// platform (Discourse badges and groups). While the switch is on, triggers on `badges` and `access` write one row per
/// grant or revoke **in the transaction that changed them** — whatever changed them: a program's effect, a moderator,
/// an approval, a recompute — so a crash can never apply an effect and lose its write-back, or the reverse. The
/// adapter drains the rows; core only writes them. Off by default: an import or a replay queues nothing until a
/// moderator turns write-back on (`program::outbox`), which queues the current state once (`quiet = 1`).
/// Also an index of likes by post and liker, removed ones included: adapters that learn likes from another platform
/// (Discourse) look a pair up on every like; the partial unique index covers only the active ones.
const V6: &str = r#"
CREATE INDEX likes_pair ON likes(post_id, liker_id);

CREATE TABLE outbox_switch (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    enabled    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_switch VALUES (1, 0);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,        -- the order changes happened in
    change           TEXT NOT NULL CHECK (change IN ('grant-badge', 'revoke-badge', 'grant-access', 'revoke-access')),
    member_id        INTEGER NOT NULL,
    subject          TEXT NOT NULL,              -- the badge or tier
    at               INTEGER NOT NULL,
    quiet            INTEGER NOT NULL DEFAULT 0, -- 1: the state at switch-on, not news
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0, -- ms since epoch: not before (backoff)
    last_error       TEXT,
    remote_id        TEXT,                       -- what the other platform called it (a Discourse user_badge id)
    done_at          INTEGER
);
CREATE INDEX outbox_pending ON outbox(state, id);

CREATE TRIGGER outbox_badge_granted AFTER INSERT ON badges WHEN (SELECT enabled FROM outbox_switch) = 1
BEGIN
    INSERT INTO outbox (change, member_id, subject, at) VALUES ('grant-badge', NEW.member_id, NEW.badge, NEW.granted_at);
END;
CREATE TRIGGER outbox_badge_revoked AFTER DELETE ON badges WHEN (SELECT enabled FROM outbox_switch) = 1
BEGIN
    INSERT INTO outbox (change, member_id, subject, at)
        VALUES ('revoke-badge', OLD.member_id, OLD.badge, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
CREATE TRIGGER outbox_access_granted AFTER INSERT ON access WHEN (SELECT enabled FROM outbox_switch) = 1
BEGIN
    INSERT INTO outbox (change, member_id, subject, at) VALUES ('grant-access', NEW.member_id, NEW.tier, NEW.granted_at);
END;
CREATE TRIGGER outbox_access_revoked AFTER DELETE ON access WHEN (SELECT enabled FROM outbox_switch) = 1
BEGIN
    INSERT INTO outbox (change, member_id, subject, at)
        VALUES ('revoke-access', OLD.member_id, OLD.tier, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
"#;

/// Version 7: reads that do not grow with the forum, and ids that tell nothing.
///
/// - Counts a page shows are columns, kept by triggers in the transaction of the event that changes them (a like,
///   its removal, a new post): `posts.like_count` (live likes), `posts.answer_count` and `posts.last_activity_at`
///   (questions), `categories.topic_count`. Pages read them instead of counting the likes table once per post.
/// - Indexes for what pages ask: accepted answers by answer, questions newest first (all, and per category).
/// - `posts_text`: a trigram full-text index over titles and bodies, so search looks up substrings instead of
///   reading every post.
/// - `forum_keys`: the secret key of the public ids (posts are named in URLs and the API by an encryption of their
///   number, see `forum::public_ids`), and the highest post number that existed before: only those old numeric
///   links still resolve, so numbers can no longer be used to count posts written since.
const V7: &str = r#"
ALTER TABLE posts ADD COLUMN like_count INTEGER NOT NULL DEFAULT 0;       -- live likes
ALTER TABLE posts ADD COLUMN answer_count INTEGER NOT NULL DEFAULT 0;     -- questions: answers in the topic
ALTER TABLE posts ADD COLUMN last_activity_at INTEGER;                    -- questions: the topic's latest post
ALTER TABLE categories ADD COLUMN topic_count INTEGER NOT NULL DEFAULT 0;
UPDATE posts SET like_count = (SELECT COUNT(*) FROM likes l WHERE l.post_id = posts.id AND l.removed_at IS NULL);
UPDATE posts SET answer_count = (SELECT COUNT(*) FROM posts a WHERE a.topic_id = posts.id AND a.kind = 'answer'),
                 last_activity_at = (SELECT MAX(a.created_at) FROM posts a WHERE a.topic_id = posts.id)
    WHERE kind = 'question';
UPDATE categories SET topic_count = (SELECT COUNT(*) FROM posts p WHERE p.category_id = categories.id AND p.kind = 'question');

CREATE INDEX accepts_answer ON accepts(answer_id);
CREATE INDEX posts_questions ON posts(created_at, id) WHERE kind = 'question';
CREATE INDEX posts_category_questions ON posts(category_id, created_at, id) WHERE kind = 'question';

CREATE TRIGGER likes_count_added AFTER INSERT ON likes WHEN NEW.removed_at IS NULL BEGIN
    UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id;
END;
CREATE TRIGGER likes_count_changed AFTER UPDATE OF removed_at ON likes
    WHEN (OLD.removed_at IS NULL) <> (NEW.removed_at IS NULL) BEGIN
    UPDATE posts SET like_count = like_count + (CASE WHEN NEW.removed_at IS NULL THEN 1 ELSE -1 END)
        WHERE id = NEW.post_id;
END;
CREATE TRIGGER likes_count_deleted AFTER DELETE ON likes WHEN OLD.removed_at IS NULL BEGIN
    UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id;
END;
CREATE TRIGGER posts_count_added AFTER INSERT ON posts BEGIN
    UPDATE posts SET last_activity_at = NEW.created_at WHERE id = NEW.id AND NEW.kind = 'question';
    UPDATE posts SET answer_count = answer_count + (NEW.kind = 'answer'),
                     last_activity_at = MAX(COALESCE(last_activity_at, 0), NEW.created_at)
        WHERE id = NEW.topic_id AND NEW.kind <> 'question';
    UPDATE categories SET topic_count = topic_count + 1 WHERE id = NEW.category_id AND NEW.kind = 'question';
END;

CREATE VIRTUAL TABLE posts_text USING fts5(title, body, content = 'posts', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO posts_text (posts_text) VALUES ('rebuild');
CREATE TRIGGER posts_text_added AFTER INSERT ON posts BEGIN
    INSERT INTO posts_text (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

CREATE TABLE forum_keys (
    singleton           INTEGER PRIMARY KEY CHECK (singleton = 1),
    public_ids          BLOB NOT NULL,           -- 32 random bytes: the key of the public ids
    legacy_posts_up_to  INTEGER NOT NULL         -- posts numbered up to this keep their old numeric links
);
INSERT INTO forum_keys VALUES (1, randomblob(32), (SELECT COALESCE(MAX(id), 0) FROM posts));
"#;

/// Version 8: each member's name key (NFKC, lower case; `crate::forum::names::name_key`), unique, so that names
/// differing only in case or Unicode spelling are one name. The keys are filled in Rust after this script; members
/// whose names already clash keep them, the earliest holding the key, and the moderators get a notice naming them.
const V8: &str = r#"
ALTER TABLE members ADD COLUMN name_key TEXT;                                   -- NULL only for a clashing older name
CREATE UNIQUE INDEX members_name_key ON members(name_key);
"#;

/// Version 9: the context contract 0.2.0 gives two events, filled in for the events logged before. An answer's or a
/// reply's `post-created` gets `question_author` (who asked the topic's question) and a like (added or removed)
/// gets `post_category` (its post's category), read from the forum's tables: a post's topic, author and category
/// never change, so these are the facts as they were when the event happened, and a replay of old history gives a
/// 0.2.0 program the same context as a live event. `json_set` appends each field last, where the model writes it.
const V9: &str = r#"
UPDATE events SET payload = json_set(payload, '$.event.question_author',
        (SELECT q.author_id FROM posts p JOIN posts q ON q.id = p.topic_id
          WHERE p.id = json_extract(events.payload, '$.event.post')))
    WHERE kind = 'post-created' AND json_extract(payload, '$.event.kind') <> 'Question'
      AND json_type(payload, '$.event.question_author') IS NULL
      AND EXISTS (SELECT 1 FROM posts p JOIN posts q ON q.id = p.topic_id
                   WHERE p.id = json_extract(events.payload, '$.event.post') AND q.author_id IS NOT NULL);
UPDATE events SET payload = json_set(payload, '$.event.post_category',
        (SELECT category_id FROM posts WHERE id = json_extract(events.payload, '$.event.post')))
    WHERE kind IN ('like-added', 'like-removed') AND json_type(payload, '$.event.post_category') IS NULL
      AND EXISTS (SELECT 1 FROM posts WHERE id = json_extract(events.payload, '$.event.post'));
"#;

/// Version 10: editing and deleting posts, account recovery, categories that look like a forum's.
///
/// - `posts.deleted_at` / `deleted_by`: a deleted post stays in the table for moderators, and is gone for members
///   (every member read filters it; see `forum::edits`). Triggers keep the counts as if it had never been written:
///   its topic's answers, its category's topics, and its text leaves the search index.
/// - `posts.edited_at` and `post_revisions`: each edit keeps the text it replaced (with who replaced it, and when)
///   for moderators; the search index follows the new text.
/// - `reset_links`: one-time, expiring password-reset links a moderator issues for a member (only the SHA-256 of the
///   link's token is stored, as for sessions).
/// - `categories.description` and `colour` (one of a fixed palette: the style sheet has a class per colour, since
///   the content security policy forbids inline styles).
const V10: &str = r#"
ALTER TABLE posts ADD COLUMN deleted_at INTEGER;                          -- NULL: live
ALTER TABLE posts ADD COLUMN deleted_by INTEGER REFERENCES members(id);
ALTER TABLE posts ADD COLUMN edited_at INTEGER;                           -- the latest edit, if any

CREATE TABLE post_revisions (
    id           INTEGER PRIMARY KEY,
    post_id      INTEGER NOT NULL REFERENCES posts(id),
    title        TEXT,                           -- the title before the edit (questions)
    body         TEXT NOT NULL,                  -- the text before the edit
    replaced_at  INTEGER NOT NULL,               -- when the edit replaced it
    editor_id    INTEGER REFERENCES members(id)  -- who edited
);
CREATE INDEX post_revisions_post ON post_revisions(post_id, id);

CREATE TRIGGER posts_text_edited AFTER UPDATE OF title, body ON posts WHEN OLD.deleted_at IS NULL BEGIN
    INSERT INTO posts_text (posts_text, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);
    INSERT INTO posts_text (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
CREATE TRIGGER posts_deleted AFTER UPDATE OF deleted_at ON posts
    WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL BEGIN
    INSERT INTO posts_text (posts_text, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);
    UPDATE posts SET answer_count = answer_count - 1 WHERE id = NEW.topic_id AND NEW.kind = 'answer';
    UPDATE categories SET topic_count = topic_count - 1 WHERE id = NEW.category_id AND NEW.kind = 'question';
    UPDATE posts SET last_activity_at = (SELECT MAX(a.created_at) FROM posts a
                                         WHERE a.topic_id = NEW.topic_id AND a.deleted_at IS NULL)
        WHERE id = NEW.topic_id AND NEW.kind <> 'question';
END;

CREATE TABLE reset_links (
    token_hash  TEXT PRIMARY KEY,                -- hex SHA-256 of the link's token
    member_id   INTEGER NOT NULL REFERENCES members(id),
    issued_by   INTEGER NOT NULL REFERENCES members(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER                          -- NULL: not used yet
);
CREATE INDEX reset_links_member ON reset_links(member_id);

ALTER TABLE categories ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE categories ADD COLUMN colour TEXT NOT NULL DEFAULT 'slate';
"#;

/// Version 11: a dead letter says whether the program failed on it or it only waits behind an earlier one
/// (`blocker`, that event's id; NULL: the program's own failure), so the quarantine can count the program's
/// unresolved failures without reading error texts. Rows already there are told apart by the text the pipeline wrote.
const V11: &str = r#"
ALTER TABLE dead_letters ADD COLUMN blocker INTEGER;
UPDATE dead_letters SET blocker = CAST(substr(error, length('waiting behind dead letter for event ') + 1) AS INTEGER)
    WHERE error LIKE 'waiting behind dead letter for event %';
CREATE INDEX dead_letters_own_failures ON dead_letters(failed_at) WHERE blocker IS NULL;
"#;

/// Version 12: the full-text index of the posts written once per batch instead of once per event.
///
/// FTS5 writes the terms it holds in memory to a new segment of the index at every savepoint and every release,
/// and the pipeline opens one savepoint per event: a replay wrote one tiny segment per post and merged them
/// again and again (13 % of a replay). Now, while a batch is open (`Forum::batch`, inside its transaction only),
/// `posts_text_deferred.above` holds the highest post id there was when it began, and the triggers leave the index
/// alone for posts above it: right before the batch commits, the posts written in it (those still live, with
/// their text as it stands then) are indexed in one statement, in the same transaction, and `above` goes back to
/// NULL. So the index is complete whenever anything is committed, a crash loses nothing (the switch rolls back with
/// the batch), and outside a batch — a live post, another process, the `sqlite3` shell — the triggers index row by
/// row as before. An edit or deletion of an older post changes the index at once, as before.
const V12: &str = r#"
CREATE TABLE posts_text_deferred (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    above      INTEGER                               -- NULL: every post is indexed as it is written
);
INSERT INTO posts_text_deferred VALUES (1, NULL);

DROP TRIGGER posts_text_added;
CREATE TRIGGER posts_text_added AFTER INSERT ON posts
    WHEN (SELECT above FROM posts_text_deferred) IS NULL BEGIN
    INSERT INTO posts_text (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

DROP TRIGGER posts_text_edited;
CREATE TRIGGER posts_text_edited AFTER UPDATE OF title, body ON posts
    WHEN OLD.deleted_at IS NULL AND OLD.id <= COALESCE((SELECT above FROM posts_text_deferred), OLD.id) BEGIN
    INSERT INTO posts_text (posts_text, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);
    INSERT INTO posts_text (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

DROP TRIGGER posts_deleted;
CREATE TRIGGER posts_deleted AFTER UPDATE OF deleted_at ON posts
    WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL BEGIN
    INSERT INTO posts_text (posts_text, rowid, title, body) SELECT 'delete', OLD.id, OLD.title, OLD.body
        WHERE OLD.id <= COALESCE((SELECT above FROM posts_text_deferred), OLD.id);
    UPDATE posts SET answer_count = answer_count - 1 WHERE id = NEW.topic_id AND NEW.kind = 'answer';
    UPDATE categories SET topic_count = topic_count - 1 WHERE id = NEW.category_id AND NEW.kind = 'question';
    UPDATE posts SET last_activity_at = (SELECT MAX(a.created_at) FROM posts a
                                         WHERE a.topic_id = NEW.topic_id AND a.deleted_at IS NULL)
        WHERE id = NEW.topic_id AND NEW.kind <> 'question';
END;
"#;

/// Version 13: secondary indexes that only readers use may be left out while a first import fills an empty forum,
/// and built once at its end (`db::deferred_indexes`). This table keeps the statement that builds each one again and
/// the process that dropped it, so that a crash part-way never loses an index: the next import or, once that process
/// is gone, the next open builds it.
const V13: &str = r#"
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    sql        TEXT NOT NULL,                        -- its CREATE INDEX statement, as sqlite_master had it
    owner_pid  INTEGER NOT NULL                      -- the importing process that builds it when it ends
);
"#;
