//! The post index: what the replay knows about every post of the dump, by Stack Exchange id, in bounded memory.
//!
//! The replay looks posts up at random (each vote's post, each answer's question) and records each post's forum id
//! as it imports it. A hash map does that fastest, but grows with the dump (~90 bytes a post with its table, and a
//! site the size of Stack Overflow has 60 million posts). So the map holds at most `in_memory` posts; when one more
//! comes, all of them move to a table of a [`Scratch`] database (indexed by id, 8 MiB of page cache), and from then
//! on every post is read and written there, through a small direct-mapped cache of recently used posts (votes come
//! in date order, so they hit the recent posts again and again). Both forms answer every question alike: the e2e
//! test `a_post_index_spilled_to_disk_gives_the_same_replay_as_one_in_memory` replays Cardano both ways.
//!
//! Owns the index's two forms and the move between them; what a post's fields mean is [`super::dump`]'s.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::dump::{ANSWER, PostInfo, QUESTION};
use super::scratch::Scratch;

/// Posts held in memory before the index moves to a scratch table: 100,000 (~9 MiB with the hash table and its
/// growth). A site of up to 100,000 posts never touches the disk; past it the table costs ~5 % of the replay's CPU
/// time (Cardano ×100, 263,000 posts: 100.1 s against 95.6 s with every post in memory).
pub const POSTS_IN_MEMORY: usize = 100_000;

/// Page cache of the scratch table, in KiB: 8 MiB (the table is ~45 bytes a post; what votes hit is the recent posts).
const SCRATCH_CACHE_KIB: u32 = 8 * 1024;

/// Entries of the direct-mapped cache in front of the scratch table: 65,536 (2.5 MiB), or the bound on posts in
/// memory if it is lower (so a low bound, as in the tests, sends most reads to the table).
const CACHE_SLOTS: usize = 1 << 16;

/// The scratch table.
const SCHEMA: &str = "CREATE TABLE posts (
    id       INTEGER PRIMARY KEY,   -- the Stack Exchange id (a u64 stored as its i64 bits)
    forum_id INTEGER NOT NULL,
    owner    INTEGER NOT NULL,
    parent   INTEGER NOT NULL,
    wiki_day INTEGER NOT NULL,
    kind     INTEGER NOT NULL
)";

/// What the index holds about its posts as a whole (for the progress and the report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// Posts (distinct ids).
    pub posts: u64,
    /// Questions and answers.
    pub counting: u64,
    /// Questions and answers whose owner is gone.
    pub counting_without_owner: u64,
}

/// Every post of the dump by its Stack Exchange id (see the module header).
#[derive(Debug)]
pub struct PostIndex {
    in_memory: usize,
    memory: HashMap<u64, PostInfo>,
    disk: Option<Disk>,
}

/// The index once it left memory.
#[derive(Debug)]
struct Disk {
    scratch: Scratch,
    /// Recently used posts: slot `id % cache.len()` holds one post id and its info (the table's, always).
    cache: Vec<Option<(u64, PostInfo)>>,
}

impl Disk {
    fn slot(&mut self, id: u64) -> &mut Option<(u64, PostInfo)> {
        let slots = self.cache.len() as u64;
        &mut self.cache[(id % slots) as usize]
    }
}

impl Default for PostIndex {
    fn default() -> PostIndex {
        PostIndex::new(POSTS_IN_MEMORY)
    }
}

impl PostIndex {
    /// An empty index that keeps at most `in_memory` posts in memory (0: every post in the scratch table).
    pub fn new(in_memory: usize) -> PostIndex {
        PostIndex { in_memory, memory: HashMap::new(), disk: None }
    }

    /// Whether the index moved to its scratch table.
    pub fn spilled(&self) -> bool {
        self.disk.is_some()
    }

    /// Add a post, or replace the post with the same id (a later row with the same id wins).
    pub fn insert(&mut self, id: u64, info: PostInfo) -> rusqlite::Result<()> {
        if self.disk.is_none() {
            if self.memory.len() < self.in_memory || self.memory.contains_key(&id) {
                self.memory.insert(id, info);
                return Ok(());
            }
            self.spill()?;
        }
        self.write(id, info)
    }

    /// The post with this id.
    pub fn get(&mut self, id: u64) -> rusqlite::Result<Option<PostInfo>> {
        let Some(disk) = self.disk.as_mut() else { return Ok(self.memory.get(&id).copied()) };
        if let Some((cached, info)) = *disk.slot(id)
            && cached == id
        {
            return Ok(Some(info));
        }
        let info = disk
            .scratch
            .conn()
            .prepare_cached("SELECT forum_id, owner, parent, wiki_day, kind FROM posts WHERE id = ?1")?
            .query_row([id as i64], |r| {
                Ok(PostInfo::from_parts(
                    r.get::<_, i64>(0)? as u64,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get(3)?,
                    r.get::<_, i64>(4)? as u8,
                ))
            })
            .optional()?;
        if let Some(info) = info {
            *disk.slot(id) = Some((id, info));
        }
        Ok(info)
    }

    /// Record the forum id a post was imported as (nothing if the index has no such post).
    pub fn set_forum_id(&mut self, id: u64, forum_id: u64) -> rusqlite::Result<()> {
        let Some(disk) = self.disk.as_mut() else {
            if let Some(info) = self.memory.get_mut(&id) {
                info.forum_id = forum_id;
            }
            return Ok(());
        };
        disk.scratch
            .conn()
            .prepare_cached("UPDATE posts SET forum_id = ?2 WHERE id = ?1")?
            .execute(params![id as i64, forum_id as i64])?;
        if let Some((cached, info)) = disk.slot(id).as_mut()
            && *cached == id
        {
            info.forum_id = forum_id;
        }
        Ok(())
    }

    /// How many posts, questions and answers, and of those without owner.
    pub fn census(&self) -> rusqlite::Result<Census> {
        let Some(disk) = self.disk.as_ref() else {
            let mut census = Census { posts: self.memory.len() as u64, ..Census::default() };
            for post in self.memory.values().filter(|p| p.counts()) {
                census.counting += 1;
                census.counting_without_owner += u64::from(post.owner().is_none());
            }
            return Ok(census);
        };
        disk.scratch.conn().query_row(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE kind IN (?1, ?2)),
                    COUNT(*) FILTER (WHERE kind IN (?1, ?2) AND owner = ?3) FROM posts",
            params![QUESTION, ANSWER, PostInfo::NO_OWNER],
            |r| {
                Ok(Census {
                    posts: r.get::<_, i64>(0)? as u64,
                    counting: r.get::<_, i64>(1)? as u64,
                    counting_without_owner: r.get::<_, i64>(2)? as u64,
                })
            },
        )
    }

    /// Move every post to the scratch table and free the map.
    fn spill(&mut self) -> rusqlite::Result<()> {
        let scratch = Scratch::open(SCRATCH_CACHE_KIB, SCHEMA)?;
        self.disk = Some(Disk { scratch, cache: vec![None; self.in_memory.clamp(1, CACHE_SLOTS)] });
        let mut posts: Vec<(u64, PostInfo)> = std::mem::take(&mut self.memory).into_iter().collect();
        // In id order: the table's B-tree is filled by appends.
        posts.sort_unstable_by_key(|(id, _)| *id as i64);
        for (id, info) in posts {
            self.write(id, info)?;
        }
        tracing::debug!("the post index moved to its scratch table past {} posts in memory", self.in_memory);
        Ok(())
    }

    fn write(&mut self, id: u64, info: PostInfo) -> rusqlite::Result<()> {
        let disk = self.disk.as_mut().expect("written only once spilled");
        let (forum_id, owner, parent, wiki_day, kind) = info.parts();
        disk.scratch
            .conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO posts (id, forum_id, owner, parent, wiki_day, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id as i64, forum_id as i64, owner, parent as i64, wiki_day, kind])?;
        let slot = disk.slot(id);
        if slot.is_some_and(|(cached, _)| cached == id) {
            *slot = Some((id, info));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(i: u64) -> PostInfo {
        let kind = [QUESTION, ANSWER, 5][(i % 3) as usize];
        let owner = (!i.is_multiple_of(4)).then_some(i as i64 - 7);
        PostInfo::new(kind, owner, i.is_multiple_of(2).then_some(i / 2), i.is_multiple_of(5).then_some(i as i64 - 100))
    }

    #[test]
    fn an_index_past_its_bound_answers_like_one_in_memory_reads_writes_and_census_alike() {
        // Ids past the cache's slots and near the ends of u64 (stored as i64 bits), a repeated id (the later row
        // wins), and forum ids set before and after the move.
        let mut ids: Vec<u64> = (1..=3_000).map(|i| i * 37).collect();
        ids.extend([u64::MAX, u64::MAX - 1, 1 << 63, 37, 74 + CACHE_SLOTS as u64]);
        for bound in [0, 1, 500, 1_000_000] {
            let (mut memory, mut bounded) = (PostIndex::new(usize::MAX), PostIndex::new(bound));
            for (n, id) in ids.iter().enumerate() {
                for index in [&mut memory, &mut bounded] {
                    index.insert(*id, post(n as u64)).unwrap();
                    if n % 7 == 0 {
                        index.set_forum_id(ids[n / 2], n as u64 + 1).unwrap();
                    }
                }
            }
            assert_eq!(bounded.spilled(), bound < ids.len() - 1, "bound {bound}");
            for index in [&mut memory, &mut bounded] {
                index.set_forum_id(u64::MAX, 9).unwrap();
                index.set_forum_id(12_345, 9).unwrap(); // no such post: nothing
            }
            assert_eq!(memory.census().unwrap(), bounded.census().unwrap(), "bound {bound}");
            for id in ids.iter().chain(&[0, 12_345, 38]) {
                let (a, b) = (memory.get(*id).unwrap(), bounded.get(*id).unwrap());
                assert_eq!(a.map(|p| p.parts()), b.map(|p| p.parts()), "bound {bound}, post {id}");
                // A second read comes from the cache: still the same.
                assert_eq!(bounded.get(*id).unwrap().map(|p| p.parts()), b.map(|p| p.parts()));
            }
        }
    }
}
