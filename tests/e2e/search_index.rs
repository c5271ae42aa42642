//! The full-text index when posts arrive in batches (schema version 12): a batch's posts are indexed once, right
//! before it commits, and search then finds exactly what posting them one by one finds — edits and deletions
//! inside the batch, of its own posts and of older ones, included; a batch rolled back leaves nothing behind.

use cadre::forum::read::search;
use cadre::forum::visibility::Viewer;
use cadre::forum::{ImportedPost, NewPost};
use cadre::runtime::{Limits, Runtime};
use cadre::{Forum, ForumError};
use cadre_model::PostKind;

use crate::util::day;

/// What each search term finds (post numbers, sorted).
fn found(forum: &Forum, terms: &[String]) -> Vec<(String, Vec<u64>)> {
    terms
        .iter()
        .map(|term| {
            let mut ids: Vec<u64> =
                search(forum.conn(), Viewer::Anonymous, term).unwrap().into_iter().map(|p| p.id).collect();
            ids.sort_unstable();
            (term.clone(), ids)
        })
        .collect()
}

fn imported(kind: PostKind, author: u64, parent: Option<u64>, category: u64, text: &str, at: i64) -> ImportedPost {
    ImportedPost {
        kind,
        author: Some(author),
        parent,
        category: (kind == PostKind::Question).then_some(category),
        title: (kind == PostKind::Question).then(|| format!("title {text}")),
        body: format!("body {text}"),
        at,
        wiki_since: None,
    }
}

/// One forum: an older post written live, then `posts` posts with edits and deletions, in one batch or one by one.
fn history(batched: bool) -> (tempfile::TempDir, Forum, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre::bundled::PROGRAM_WASM, "system", day(0)).unwrap();
    let moderator = forum.register("mod", 0, true).unwrap();
    let author = forum.register("ann", 0, false).unwrap();
    let general = forum.create_category("general", "General", None).unwrap();
    let live = |text: &str| NewPost {
        kind: PostKind::Question,
        author,
        category: Some(general),
        parent: None,
        title: Some(format!("title {text}")),
        body: format!("body {text}"),
        at: day(1),
    };
    let (old_edited, _) = forum.create_post("old-1", live("zqoldedited")).unwrap();
    let (old_deleted, _) = forum.create_post("old-2", live("zqolddeleted")).unwrap();
    let steps = |forum: &mut Forum| -> Result<(), ForumError> {
        let (question, _) =
            forum.import_post("q", imported(PostKind::Question, author, None, general, "zqquestion", day(2)))?;
        let mut answers = Vec::new();
        for i in 0..20 {
            let text = format!("zqanswer{i:02}x");
            let (id, _) = forum
                .import_post(&format!("a{i}"), imported(PostKind::Answer, author, Some(question), 0, &text, day(2)))?;
            answers.push(id);
        }
        // A post of this batch edited, another deleted; an older post edited, another deleted.
        forum.edit_post(moderator, answers[3], None, "body zqrewritten", day(3))?;
        forum.delete_post("del-a7", moderator, answers[7], "spam", day(3))?;
        forum.edit_post(moderator, old_edited, Some("title zqoldrewritten"), "body zqoldrewritten", day(3))?;
        forum.delete_post("del-old", moderator, old_deleted, "spam", day(3))?;
        // Refused inside the batch (a like of a post that does not exist): rolls back alone.
        assert!(forum.import_like("bad-like", Some(author), 999_999, day(3)).is_err());
        Ok(())
    };
    if batched {
        forum.batch(steps).unwrap();
    } else {
        steps(&mut forum).unwrap();
    }
    let mut terms: Vec<String> = (0..20).map(|i| format!("zqanswer{i:02}x")).collect();
    terms.extend(
        ["zqquestion", "zqrewritten", "zqoldedited", "zqoldrewritten", "zqolddeleted", "title", "body"]
            .map(String::from),
    );
    (dir, forum, terms)
}

fn integrity_check(forum: &Forum) {
    forum
        .conn()
        .execute("INSERT INTO posts_text (posts_text) VALUES ('integrity-check')", [])
        .expect("the full-text index is consistent");
}

#[test]
fn a_batch_of_posts_is_found_by_search_once_it_commits_exactly_as_posts_written_one_by_one() {
    let (_one, one_by_one, terms) = history(false);
    let (_batch, batched, _) = history(true);
    let expected = found(&one_by_one, &terms);
    assert_eq!(found(&batched, &terms), expected);
    // What a member notices: the new posts, the edited text instead of the old one, nothing of a deleted post.
    let hits = |term: &str| expected.iter().find(|(t, _)| t == term).unwrap().1.len();
    assert_eq!(hits("zqanswer00x"), 1);
    assert_eq!((hits("zqanswer03x"), hits("zqrewritten")), (0, 1), "an edit inside the batch replaces the text");
    assert_eq!(hits("zqanswer07x"), 0, "a post deleted inside the batch is not found");
    assert_eq!((hits("zqoldedited"), hits("zqoldrewritten")), (0, 1), "an older post's edit is indexed");
    assert_eq!(hits("zqolddeleted"), 0, "an older post deleted inside the batch leaves the index");
    integrity_check(&batched);
    integrity_check(&one_by_one);
    let deferred: Option<i64> =
        batched.conn().query_row("SELECT above FROM posts_text_deferred", [], |row| row.get(0)).unwrap();
    assert_eq!(deferred, None, "after the commit, posts are indexed as they are written again");
}

#[test]
fn a_batch_rolled_back_leaves_no_trace_in_the_index_and_the_next_live_post_is_found_at_once() {
    let (_dir, mut forum, _) = history(true);
    let author = forum.register("bob", 0, false).unwrap();
    let general = forum.ensure_category("general", "General", None).unwrap();
    let failed = forum.batch(|forum| {
        forum.import_post("gone", imported(PostKind::Question, author, None, general, "zqrolledback", day(4)))?;
        Err::<(), _>(ForumError::Invalid("the import stops here".into()))
    });
    assert!(failed.is_err());
    assert!(found(&forum, &["zqrolledback".into()])[0].1.is_empty());
    let post = NewPost {
        kind: PostKind::Question,
        author,
        category: Some(general),
        parent: None,
        title: Some("title zqlive".into()),
        body: "body".into(),
        at: day(4),
    };
    let (id, _) = forum.create_post("live", post).unwrap();
    assert_eq!(found(&forum, &["zqlive".into()])[0].1, vec![id]);
    integrity_check(&forum);
}
