//! Keyset paging in page URLs: `?after=<time>.<public id>` names the last item shown, and the next page starts
//! after it (`forum::read::Cursor`), so page 1,000 is one index lookup like page 1. The cursor names the item by
//! its public id, never its number. A cursor that names nothing starts from the newest.
//!
//! Owns the URL form and the "Newer / Older" links; the queries are `forum::read`'s.

use cadre_core::forum::public_ids::PublicIds;
use cadre_core::forum::read::Cursor;
use maud::{Markup, html};
use serde::Deserialize;

/// A list page's query: where it starts, and (search only) what to look for.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// The cursor of the page (absent: the newest).
    #[serde(default)]
    pub after: Option<String>,
    /// The search text.
    #[serde(default)]
    pub q: String,
}

/// The cursor an `after` parameter names (`None`: the first page).
pub fn cursor(ids: &PublicIds, after: Option<&str>) -> Option<Cursor> {
    let (at, id) = after?.split_once('.')?;
    Some(Cursor { at: at.parse().ok()?, id: ids.resolve(id)?.number() })
}

/// The `after` parameter of a cursor.
pub fn after_param(ids: &PublicIds, cursor: Cursor) -> String {
    format!("{}.{}", cursor.at, ids.post(cursor.id))
}

/// The links under a list: back to the newest (on a later page) and on to older items (when there are more).
/// `base` is the page's path with its other parameters (`/search?q=…&` or `/latest?`).
pub fn pager(ids: &PublicIds, base: &str, later_page: bool, next: Option<Cursor>) -> Markup {
    let first = base.trim_end_matches(['?', '&']);
    html! {
        @if later_page || next.is_some() {
            nav.pager aria-label="Pages" {
                @if later_page { a.newer rel="prev" href=(first) { "← Newest" } }
                @if let Some(next) = next {
                    a.older rel="next" href={ (base) "after=" (after_param(ids, next)) } { "Older →" }
                }
            }
        }
    }
}
