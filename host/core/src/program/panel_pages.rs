//! Pages of the moderators' long lists — the audit log (all of it, or one member's), a member's ledger, the tier
//! access list and the review queue — by keyset on the row id: a page is an index walk from where the previous one
//! ended, as fast at page 1,000 as at page 1, with links both ways (newer and older).
//!
//! Owns the paged queries only; the rows are `reports`' ([`AuditRow`], [`LedgerRow`], [`Nomination`]), and the
//! unpaged readers there stay for the command line.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::reports::{AuditRow, LedgerRow, Nomination};
use crate::error::ForumError;

/// Where a page starts: the newest rows, the rows older than an id, or the rows newer than an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keyset {
    /// The newest rows.
    #[default]
    Newest,
    /// Rows with a smaller id (older), newest first.
    Before(i64),
    /// Rows with a larger id (newer), shown newest first.
    After(i64),
}

/// A page of rows, newest first, and whether there are rows on either side.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Paged<T> {
    /// The rows, newest first.
    pub rows: Vec<T>,
    /// The id to ask `After` for the newer page (`None`: this is the newest).
    pub newer: Option<i64>,
    /// The id to ask `Before` for the older page (`None`: this is the oldest).
    pub older: Option<i64>,
}

/// Run a keyset query: `sql` selects rows of one list with `{cond}` and `{order}` to fill, and `?1` the key.
fn page<T>(
    conn: &Connection,
    sql: &str,
    keyset: Keyset,
    limit: usize,
    extra: Option<i64>,
    id_of: impl Fn(&T) -> i64,
    row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Paged<T>, ForumError> {
    let (cond, order, key) = match keyset {
        Keyset::Newest => ("1", "DESC", 0),
        Keyset::Before(id) => ("id < ?1", "DESC", id),
        Keyset::After(id) => ("id > ?1", "ASC", id),
    };
    let sql = sql.replace("{cond}", cond).replace("{order}", order);
    let mut rows: Vec<T> = conn
        .prepare_cached(&sql)?
        .query_map(params![key, extra, limit as i64 + 1], &row)?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if matches!(keyset, Keyset::After(_)) {
        rows.reverse();
    }
    let (first, last) = (rows.first().map(&id_of), rows.last().map(&id_of));
    let (newer, older) = match keyset {
        Keyset::Newest => (None, last.filter(|_| more)),
        Keyset::Before(_) => (first, last.filter(|_| more)),
        Keyset::After(_) => (first.filter(|_| more), last),
    };
    Ok(Paged { rows, newer, older })
}

/// A page of the audit log (one member's, or everyone's), newest first.
pub fn audit(
    conn: &Connection,
    member: Option<u64>,
    keyset: Keyset,
    limit: usize,
) -> Result<Paged<AuditRow>, ForumError> {
    let sql = "SELECT id, at, actor, action, member_id, subject, reason FROM audit \
               WHERE {cond} AND (?2 IS NULL OR member_id = ?2) ORDER BY id {order} LIMIT ?3";
    page(
        conn,
        sql,
        keyset,
        limit,
        member.map(|m| m as i64),
        |r: &AuditRow| r.id,
        |row| {
            Ok(AuditRow {
                id: row.get(0)?,
                at: row.get(1)?,
                actor: row.get(2)?,
                action: row.get(3)?,
                member_id: row.get::<_, Option<i64>>(4)?.map(|m| m as u64),
                subject: row.get(5)?,
                reason: row.get(6)?,
            })
        },
    )
}

/// A page of a member's ledger, newest first, each row with the running total after it.
pub fn ledger(conn: &Connection, member: u64, keyset: Keyset, limit: usize) -> Result<Paged<LedgerRow>, ForumError> {
    let sql = "SELECT id, delta, rule, reason, event_id, at FROM ledger \
               WHERE {cond} AND member_id = ?2 ORDER BY member_id, id {order} LIMIT ?3";
    let mut paged = page(
        conn,
        sql,
        keyset,
        limit,
        Some(member as i64),
        |r: &LedgerRow| r.id,
        |row| {
            Ok(LedgerRow {
                id: row.get(0)?,
                delta: row.get(1)?,
                total: 0,
                rule: row.get(2)?,
                reason: row.get(3)?,
                event_id: row.get(4)?,
                at: row.get(5)?,
            })
        },
    )?;
    // The total before the page's oldest row, then running up through the page.
    if let Some(oldest) = paged.rows.last().map(|r| r.id) {
        let mut total: i64 = conn.query_row(
            "SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE member_id = ?1 AND id < ?2",
            params![member as i64, oldest],
            |row| row.get(0),
        )?;
        for row in paged.rows.iter_mut().rev() {
            total += row.delta;
            row.total = total;
        }
    }
    Ok(paged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_pages_walk_back_and_forth_by_id_without_gaps_or_repeats() {
        let conn = crate::db::open_in_memory().unwrap();
        for i in 0..25 {
            crate::program::audit(&conn, i, "system", "test", None, "s", &format!("row {i}"), None).unwrap();
        }
        let first = audit(&conn, None, Keyset::Newest, 10).unwrap();
        assert_eq!(first.rows.iter().map(|r| r.id).collect::<Vec<_>>(), (16..=25).rev().collect::<Vec<_>>());
        assert_eq!((first.newer, first.older), (None, Some(16)));
        let second = audit(&conn, None, Keyset::Before(16), 10).unwrap();
        assert_eq!(second.rows.first().map(|r| r.id), Some(15));
        let third = audit(&conn, None, Keyset::Before(second.older.unwrap()), 10).unwrap();
        assert_eq!(third.rows.iter().map(|r| r.id).collect::<Vec<_>>(), (1..=5).rev().collect::<Vec<_>>());
        assert_eq!(third.older, None);
        let back = audit(&conn, None, Keyset::After(third.newer.unwrap()), 10).unwrap();
        assert_eq!(back.rows, second.rows, "newer from the third page is the second again");
        let top = audit(&conn, None, Keyset::After(back.newer.unwrap()), 10).unwrap();
        assert_eq!((top.rows, top.newer), (first.rows, None));
    }

    #[test]
    fn the_review_queue_pages_oldest_first_skipping_decided_nominations() {
        let conn = crate::db::open_in_memory().unwrap();
        for i in 1..=25 {
            // Every fifth nomination was decided already: it is in no page.
            let status = if i % 5 == 0 { "approved" } else { "pending" };
            conn.execute("INSERT INTO members (id, name, joined_at) VALUES (?1, ?2, 0)", params![i, format!("m{i}")])
                .unwrap();
            conn.execute(
                "INSERT INTO nominations (id, member_id, tier, evidence, status, created_at) \
                 VALUES (?1, ?1, 'insiders', '{}', ?2, ?1)",
                params![i, status],
            )
            .unwrap();
        }
        let ids = |page: &Paged<Nomination>| page.rows.iter().map(|n| n.id).collect::<Vec<_>>();
        let first = queue(&conn, Keyset::Newest, 8).unwrap();
        assert_eq!(ids(&first), vec![1, 2, 3, 4, 6, 7, 8, 9]);
        assert_eq!((first.older, first.newer), (None, Some(9)));
        let second = queue(&conn, Keyset::After(9), 8).unwrap();
        assert_eq!(ids(&second), vec![11, 12, 13, 14, 16, 17, 18, 19]);
        let third = queue(&conn, Keyset::After(second.newer.unwrap()), 8).unwrap();
        assert_eq!(ids(&third), vec![21, 22, 23, 24]);
        assert_eq!(third.newer, None, "the last page");
        let back = queue(&conn, Keyset::Before(third.older.unwrap()), 8).unwrap();
        assert_eq!(ids(&back), ids(&second), "earlier from the third page is the second again");
        let start = queue(&conn, Keyset::Before(back.older.unwrap()), 8).unwrap();
        assert_eq!((ids(&start), start.older), (ids(&first), None));
    }
}

/// One member's access to one tier, as the panel's access list shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessRow {
    /// The row's place in the list (newest grant last): the page key.
    pub id: i64,
    /// Member id.
    pub member_id: u64,
    /// The member's name.
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

/// A page of tier access, the newest grants first. A tier can hold hundreds of thousands of members, so the panel
/// never lists it whole.
pub fn access(conn: &Connection, keyset: Keyset, limit: usize) -> Result<Paged<AccessRow>, ForumError> {
    // The inner select names the access row's rowid `id`, so the keyset walks the access table's own b-tree.
    let sql = "SELECT id, member_id, name, tier, source, granted_at, reason FROM \
               (SELECT a.rowid AS id, a.member_id, m.name, a.tier, a.source, a.granted_at, a.reason \
                FROM access a JOIN members m ON m.id = a.member_id) \
               WHERE {cond} AND ?2 IS NULL ORDER BY id {order} LIMIT ?3";
    page(
        conn,
        sql,
        keyset,
        limit,
        None,
        |r: &AccessRow| r.id,
        |row| {
            Ok(AccessRow {
                id: row.get(0)?,
                member_id: row.get::<_, i64>(1)? as u64,
                name: row.get(2)?,
                tier: row.get(3)?,
                source: row.get(4)?,
                granted_at: row.get(5)?,
                reason: row.get(6)?,
            })
        },
    )
}

/// A page of the review queue: pending nominations, **oldest first** (the order they are reviewed in), unlike the
/// other lists. `Keyset::Newest` is the first page (the oldest waiting); `Before(id)` the page just before the one
/// that starts at `id`; `After(id)` the page after the one that ends at `id`. In the result, `older` is the id to
/// ask `Before` for the earlier page and `newer` the id to ask `After` for the later one (`None` at an end). A
/// community with hundreds of thousands of members can have thousands waiting: the panel never shows them all.
pub fn queue(conn: &Connection, keyset: Keyset, limit: usize) -> Result<Paged<Nomination>, ForumError> {
    let (cond, order, key) = match keyset {
        Keyset::Newest => ("1", "ASC", 0),
        Keyset::Before(id) => ("n.id < ?1", "DESC", id),
        Keyset::After(id) => ("n.id > ?1", "ASC", id),
    };
    let sql = format!(
        "{} WHERE n.status = 'pending' AND {cond} ORDER BY n.id {order} LIMIT ?2",
        super::reports::NOMINATION_SELECT
    );
    let mut rows: Vec<Nomination> = conn
        .prepare_cached(&sql)?
        .query_map(params![key, limit as i64 + 1], super::reports::nomination_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if matches!(keyset, Keyset::Before(_)) {
        rows.reverse();
    }
    let (first, last) = (rows.first().map(|n| n.id), rows.last().map(|n| n.id));
    let (older, newer) = match keyset {
        Keyset::Newest => (None, last.filter(|_| more)),
        Keyset::Before(_) => (first.filter(|_| more), last),
        Keyset::After(_) => (first, last.filter(|_| more)),
    };
    Ok(Paged { rows, newer, older })
}
