//! How members are named and referred to: a name is never all digits and never starts with `#`, so that `#3` (or a
//! bare `3` that no member is called) always means the member whose id is 3, and a name always means its member.
//! Messages speak of a member as `alice (#3)`.
//!
//! Databases from before this rule may hold a member named `3`: a bare `3` is then ambiguous and refused, and both
//! members stay reachable by `#id`.
//!
//! Names are one name whatever their case or Unicode spelling: each member has a **key** ([`name_key`], NFKC and
//! lower case), unique in the database, so nobody can sign up as `Bob` beside `bob`, or as `ｂｏｂ` (full-width)
//! beside either. Names never hold control or invisible formatting characters (escape sequences, newlines, NUL,
//! bidi overrides, zero-width joiners), which could rewrite a moderator's terminal or hide a look-alike.
//! [`MAX_NAME`] is the one length limit, for the forum, the command line, the importers and the web.

use rusqlite::{Connection, OptionalExtension, params};
use unicode_normalization::UnicodeNormalization;

use super::{ForumError, MemberId};

/// Longest member name, in characters: the one limit for sign-up, log-in, the command line and the importers.
/// Long enough for a full name or a Stack Exchange display name with its id appended, short enough for a URL.
pub const MAX_NAME: usize = 64;

/// The key two names are compared by: NFKC (compatibility forms such as full-width letters become the plain
/// ones), lower case, then NFKC again (lower-casing can leave a string unnormalised).
pub fn name_key(name: &str) -> String {
    name.trim().nfkc().collect::<String>().to_lowercase().nfkc().collect()
}

/// Whether `c` must never be part of a name: control characters (C0, DEL, C1) and the invisible formatting ones
/// (zero-width, bidi embeddings and overrides, the byte-order mark) that can disguise one name as another.
pub fn forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// Why a new member's name is refused, if it is.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Some(format!("a member name needs 1 to {MAX_NAME} characters"));
    }
    if let Some(c) = name.chars().find(|c| forbidden_in_name(*c)) {
        return Some(format!(
            "a member name cannot hold control or invisible characters ({:?} has U+{:04X})",
            escaped(name),
            c as u32
        ));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "a member name cannot be all digits ({name:?}): numbers refer to members by id (#{name}); add a letter"
        ));
    }
    if name.starts_with('#') {
        return Some(format!("a member name cannot start with '#' ({name:?}): #N refers to the member whose id is N"));
    }
    None
}

/// The name an imported member gets: theirs if it is free and allowed, otherwise theirs with `#` and their
/// external id appended (`ada#u7`, `3#17`), or `member#` and their external id when they have none. Control and
/// invisible characters are dropped and a long name is shortened, so that the result fits [`MAX_NAME`].
pub fn imported_name(name: &str, external_id: &str, taken: bool) -> String {
    let clean: String = name.chars().filter(|c| !forbidden_in_name(*c)).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return fit(format!("member#{external_id}"));
    }
    if taken || clean != name || name_problem(clean).is_some() {
        let suffix = format!("#{external_id}");
        let room = MAX_NAME.saturating_sub(suffix.chars().count()).max(1);
        let prefix: String = clean.chars().take(room).collect();
        return fit(format!("{}{suffix}", prefix.trim_end()));
    }
    clean.to_owned()
}

/// [`imported_name`] for the database at hand: taken means some member's name has the same key. Should the
/// name with the external id be taken too (a member named `ada#u7` by hand), a counter is appended as well.
pub fn imported_name_in(conn: &Connection, name: &str, external_id: &str) -> Result<String, ForumError> {
    let taken = taken_by(conn, name)?.is_some();
    let mut given = imported_name(name, external_id, taken);
    let mut attempt = 2;
    while taken_by(conn, &given)?.is_some() {
        given = imported_name(name, &format!("{external_id}#{attempt}"), true);
        attempt += 1;
    }
    Ok(given)
}

/// What a refused new name is told: `the name "BOB" is taken`, naming the holder when it is spelt differently.
pub fn taken_message(name: &str, holder: &str) -> String {
    if holder == name {
        format!("the name {:?} is taken", escaped(name))
    } else {
        format!(
            "the name {:?} is taken (by {:?}: names differ by more than case or look-alike letters)",
            escaped(name),
            escaped(holder)
        )
    }
}

/// `text` cut to [`MAX_NAME`] characters (an external id alone longer than a name is cut too).
fn fit(text: String) -> String {
    if text.chars().count() <= MAX_NAME { text } else { text.chars().take(MAX_NAME).collect() }
}

/// The member whose name has the same key as `name` (`Bob` for `bob`), if there is one: its name.
pub fn taken_by(conn: &Connection, name: &str) -> Result<Option<String>, ForumError> {
    Ok(conn
        .prepare_cached("SELECT name FROM members WHERE name_key = ?1 OR name = ?2 LIMIT 1")?
        .query_row(params![name_key(name), name], |row| row.get(0))
        .optional()?)
}

/// `text` safe to print on a terminal or in a log line: control and invisible characters become `\u{…}` escapes
/// (a tab or newline too), everything else is kept. Names from databases older than the rule above, and any other
/// text a member wrote, go through this on the way out.
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(forbidden_in_name) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if forbidden_in_name(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Give every member without a key its key (a database from before keys existed, or a row written by hand), and
/// return the groups of members whose names share a key — duplicates from before the rule, which keep their names
/// (the earliest keeps the key; the others stay reachable by name and `#id`) until a moderator sorts them out.
pub fn backfill_keys(conn: &Connection) -> Result<Vec<Vec<(MemberId, String)>>, ForumError> {
    let members: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM members WHERE name_key IS NULL ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut groups: std::collections::BTreeMap<String, Vec<(MemberId, String)>> = std::collections::BTreeMap::new();
    for (id, name) in members {
        let key = name_key(&name);
        let holder: Option<(i64, String)> = conn
            .query_row("SELECT id, name FROM members WHERE name_key = ?1", params![key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match holder {
            Some((holder, holder_name)) => {
                let group = groups.entry(key).or_default();
                if group.is_empty() {
                    group.push((holder as MemberId, holder_name));
                }
                group.push((id as MemberId, name));
            }
            None => {
                conn.execute("UPDATE members SET name_key = ?1 WHERE id = ?2", params![key, id])?;
            }
        }
    }
    Ok(groups.into_values().collect())
}

/// Run [`backfill_keys`] and tell the moderators (a notice, `cadre notices`) about every group of duplicate names
/// found. Returns the notices' messages. Called by the migration that introduced keys.
pub fn report_duplicate_names(conn: &Connection, now: i64) -> Result<Vec<String>, ForumError> {
    let mut messages = Vec::new();
    for group in backfill_keys(conn)? {
        let labels: Vec<String> = group.iter().map(|(id, name)| label(&escaped(name), *id)).collect();
        let message = format!(
            "these members' names differ only in case or Unicode spelling, which could let one pass for another: {}; \
             the first keeps the name, the others can still be reached by #id — rename or remove them",
            labels.join(", ")
        );
        conn.execute(
            "INSERT INTO notices (member_id, topic, message, at, event_id) VALUES (NULL, 'duplicate-names', ?1, ?2, NULL)",
            params![message, now],
        )?;
        messages.push(message);
    }
    Ok(messages)
}

/// `alice (#3)` (the name [`escaped`]).
pub fn label(name: &str, id: MemberId) -> String {
    format!("{} (#{id})", escaped(name))
}

/// `alice (#3)` for a member id (`#3` alone if there is no such member).
pub fn member_label(conn: &Connection, id: MemberId) -> Result<String, ForumError> {
    let name: Option<String> = conn
        .prepare_cached("SELECT name FROM members WHERE id = ?1")?
        .query_row(params![id as i64], |row| row.get(0))
        .optional()?;
    Ok(name.map_or_else(|| format!("#{id}"), |name| label(&name, id)))
}

/// A member by how a moderator writes them: `#3` is the member whose id is 3; anything else is a name. A bare
/// number is an id when no member is called that (names are never all digits), and refused as ambiguous when a
/// member of an older database is.
pub fn resolve_member(conn: &Connection, text: &str) -> Result<MemberId, ForumError> {
    let by_id = |id: &str| -> Result<Option<MemberId>, ForumError> {
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        Ok(conn
            .query_row("SELECT id FROM members WHERE id = ?1", params![id], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|id| id as MemberId))
    };
    if let Some(digits) = text.strip_prefix('#')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        return by_id(digits)?.ok_or_else(|| ForumError::NotFound(format!("member #{digits}")));
    }
    // The exact name first (duplicates from before keys stay reachable), then the name's key: `BOB` is bob.
    let by_name: Option<MemberId> = conn
        .query_row("SELECT id FROM members WHERE name = ?1", params![text], |row| row.get::<_, i64>(0))
        .optional()?
        .or(conn
            .query_row("SELECT id FROM members WHERE name_key = ?1", params![name_key(text)], |row| {
                row.get::<_, i64>(0)
            })
            .optional()?)
        .map(|id| id as MemberId);
    let numeric = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    match (by_name, numeric) {
        (Some(id), false) => Ok(id),
        (None, false) => Err(ForumError::NotFound(format!("member {text:?}"))),
        (None, true) => by_id(text)?.ok_or_else(|| ForumError::NotFound(format!("member #{text}"))),
        (Some(named), true) => match by_id(text)? {
            Some(numbered) if numbered != named => Err(ForumError::Invalid(format!(
                "{text:?} is ambiguous: it is the name of {} and the id of {}; write #{named} or #{numbered} \
                 (quoted in a shell: '#{named}')",
                member_label(conn, named)?,
                member_label(conn, numbered)?
            ))),
            _ => Ok(named),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differing_in_case_or_compatibility_spelling_share_a_key() {
        assert_eq!(name_key("Bob"), "bob");
        assert_eq!(name_key("\u{ff22}\u{ff4f}\u{ff42}"), "bob", "full-width letters");
        assert_eq!(name_key("e\u{301}mile"), name_key("\u{e9}mile"), "a combining accent and a precomposed one");
        assert_ne!(name_key("bob"), name_key("bób"));
    }

    #[test]
    fn control_and_invisible_characters_are_refused_in_new_names() {
        // An escape sequence that would clear a moderator's terminal, a bell, a newline (a fake second line), NUL.
        for name in ["evil\u{1b}[2J", "ding\u{7}", "two\nlines", "nul\u{0}", "C1\u{9b}31m"] {
            let problem = name_problem(name).unwrap_or_else(|| panic!("{name:?} accepted"));
            assert!(problem.contains("control or invisible"), "{problem}");
            assert!(!problem.chars().any(forbidden_in_name), "the message itself is safe to print: {problem:?}");
        }
        // A right-to-left override (reverses what follows) and a zero-width space (a look-alike of "admin").
        assert!(name_problem("adm\u{202e}nimda").is_some());
        assert!(name_problem("ad\u{200b}min").is_some());
        assert_eq!(name_problem("Zoë Ω"), None, "letters of any script are fine");
    }

    #[test]
    fn text_printed_for_a_moderator_has_its_control_characters_escaped() {
        assert_eq!(escaped("evil\u{1b}[2J\u{7}"), "evil\\u{1b}[2J\\u{7}");
        assert_eq!(label("a\nb", 3), "a\\u{a}b (#3)");
        assert!(matches!(escaped("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn an_imported_name_loses_its_control_characters_and_fits_the_limit() {
        assert_eq!(imported_name("ada", "u7", false), "ada");
        assert_eq!(imported_name("ada", "u7", true), "ada#u7");
        assert_eq!(imported_name("bad\u{1b}name", "u8", false), "badname#u8");
        let long = imported_name(&"x".repeat(200), "u9", false);
        assert_eq!(long.chars().count(), MAX_NAME);
        assert!(long.ends_with("#u9"));
        assert_eq!(imported_name("\u{7}", "u10", false), "member#u10");
    }
}
