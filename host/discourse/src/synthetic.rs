//! A synthetic Discourse backup of a chosen size, for measuring `cadre discourse import` (`cadre discourse
//! synthetic-backup`; docs/discourse.md gives the figure and the command).
//!
//! The file has the shape of a real one (`<site>-…-v….tar.gz` holding `dump.sql.gz`, a plain `pg_dump` with
//! `\restrict`, `COPY public.<table> (<columns>) FROM stdin;` blocks with extra columns and escapes, a table Cadre must
//! skip): users, one category, topics with a first post and answers, likes (one in fifty removed later, as the
//! backup keeps them with `deleted_at`), and every third topic's accepted answer in `discourse_solved_solved_topics`.
//! Activity is spread over 100 days and the likers are skewed towards a few members, so the program's daily caps
//! bite as in a real community. Deterministic: the same shape gives the same bytes. Owns the generator only; the
//! reader is `backup`.

use std::io::Write;
use std::path::Path;

/// How big the backup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Members.
    pub users: u64,
    /// Topics (each one question).
    pub topics: u64,
    /// Posts per topic, the question included.
    pub posts_per_topic: u64,
    /// Likes per post (a liker never likes their own post, so a few less in all).
    pub likes_per_post: u64,
}

impl Default for Shape {
    /// 100,000 posts and about 300,000 likes by 10,000 members.
    fn default() -> Shape {
        Shape { users: 10_000, topics: 10_000, posts_per_topic: 10, likes_per_post: 3 }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Posts.
    pub posts: u64,
    /// Likes (the removed ones included).
    pub likes: u64,
    /// Likes removed later.
    pub removed: u64,
    /// Accepted answers.
    pub accepted: u64,
    /// Bytes of the `.tar.gz`.
    pub bytes: u64,
}

/// Activity spreads over this many days.
const DAYS: u64 = 100;

fn time(minute: u64) -> String {
    let day = minute / 1440 % DAYS;
    let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date") + chrono::Days::new(day);
    format!("{date} {:02}:{:02}:00.000", minute / 60 % 24, minute % 60)
}

/// Append one ustar entry.
fn tar_entry(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// Write a backup of `shape` to `path`.
pub fn write(path: &Path, shape: &Shape) -> std::io::Result<Written> {
    let mut written = Written::default();
    let mut dump = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let users = shape.users.max(2);
    writeln!(dump, "\\restrict synthetic\nSET statement_timeout = 0;")?;
    writeln!(dump, "COPY public.users (id, username, name, created_at, active, staged) FROM stdin;")?;
    writeln!(dump, "-1\tsystem\tsystem\t2024-12-01 00:00:00.000\tt\tf")?;
    for u in 1..=users {
        writeln!(dump, "{u}\tmember{u}\tMember\\t{u}\t2024-12-01 00:00:00.000\tt\tf")?;
    }
    writeln!(dump, "\\.\nCOPY public.user_emails (id, user_id, email, \"primary\") FROM stdin;")?;
    for u in 1..=users.min(100) {
        writeln!(dump, "{u}\t{u}\tmember{u}@example.org\tt")?;
    }
    writeln!(dump, "\\.\nCOPY public.categories (id, name, slug, read_restricted, \"position\") FROM stdin;")?;
    writeln!(dump, "7\tGeneral\tgeneral\tf\t1\n\\.")?;
    writeln!(
        dump,
        "COPY public.topics (id, title, user_id, category_id, archetype, created_at, deleted_at, views) FROM stdin;"
    )?;
    let minutes_per_topic = (DAYS * 1440 / shape.topics.max(1)).max(1);
    let author = |post: u64| (post * 7919) % users + 1;
    for t in 1..=shape.topics {
        let first = (t - 1) * shape.posts_per_topic + 1;
        writeln!(
            dump,
            "{t}\tTopic {t}\t{}\t7\tregular\t{}\t\\N\t{}",
            author(first),
            time(t * minutes_per_topic),
            t % 97
        )?;
    }
    writeln!(
        dump,
        "\\.\nCOPY public.posts (id, user_id, topic_id, post_number, raw, cooked, created_at, reply_to_post_number, post_type, deleted_at, wiki, hidden) FROM stdin;"
    )?;
    for t in 1..=shape.topics {
        for n in 1..=shape.posts_per_topic {
            let id = (t - 1) * shape.posts_per_topic + n;
            let at = time(t * minutes_per_topic + n);
            let reply = if n > 1 { "1".to_owned() } else { "\\N".to_owned() };
            writeln!(
                dump,
                "{id}\t{}\t{t}\t{n}\tpost {id}\\nwith a line\t<p>post</p>\t{at}\t{reply}\t1\t\\N\tf\tf",
                author(id)
            )?;
            written.posts += 1;
        }
    }
    writeln!(
        dump,
        "\\.\nCOPY public.post_actions (id, post_id, user_id, post_action_type_id, created_at, deleted_at, updated_at) FROM stdin;"
    )?;
    let mut action = 0u64;
    for post in 1..=written.posts {
        let topic = (post - 1) / shape.posts_per_topic + 1;
        for l in 0..shape.likes_per_post {
            // Skewed likers: half the likes come from the first tenth of the members.
            let spread = if (post + l).is_multiple_of(2) { users.div_ceil(10) } else { users };
            let liker = (post * 31 + l * 7727) % spread + 1;
            if liker == author(post) {
                continue;
            }
            action += 1;
            let at = time(topic * minutes_per_topic + 60 + l * 5);
            let removed = if action.is_multiple_of(50) {
                written.removed += 1;
                time(topic * minutes_per_topic + 1440)
            } else {
                "\\N".to_owned()
            };
            writeln!(dump, "{action}\t{post}\t{liker}\t2\t{at}\t{removed}\t{at}")?;
            written.likes += 1;
        }
    }
    writeln!(
        dump,
        "\\.\nCOPY public.discourse_solved_solved_topics (id, topic_id, answer_post_id, accepter_user_id, created_at, updated_at) FROM stdin;"
    )?;
    for t in (1..=shape.topics).filter(|t| t.is_multiple_of(3) && shape.posts_per_topic > 1) {
        let answer = (t - 1) * shape.posts_per_topic + 2 + t % (shape.posts_per_topic - 1);
        let at = time(t * minutes_per_topic + 120);
        writeln!(dump, "{t}\t{t}\t{answer}\t{}\t{at}\t{at}", author((t - 1) * shape.posts_per_topic + 1))?;
        written.accepted += 1;
    }
    writeln!(dump, "\\.\n\\unrestrict synthetic")?;
    let dump = dump.finish()?;
    let mut tar = Vec::with_capacity(dump.len() + 4096);
    tar_entry(&mut tar, "dump.sql.gz", &dump);
    tar_entry(&mut tar, "uploads/default/original/1X/synthetic.png", b"not read");
    tar.extend_from_slice(&[0u8; 1024]);
    let mut file = flate2::write::GzEncoder::new(std::fs::File::create(path)?, flate2::Compression::fast());
    file.write_all(&tar)?;
    file.finish()?.sync_all()?;
    written.bytes = std::fs::metadata(path)?.len();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_synthetic_backup_has_the_shape_asked_for_and_the_same_bytes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape { users: 50, topics: 30, posts_per_topic: 4, likes_per_post: 3 };
        let first = write(&dir.path().join("a.tar.gz"), &shape).unwrap();
        let second = write(&dir.path().join("b.tar.gz"), &shape).unwrap();
        assert_eq!((first.posts, first.accepted), (120, 10));
        assert!(first.likes > 300 && first.likes <= 360 && first.removed > 0, "{first:?}");
        assert_eq!(
            std::fs::read(dir.path().join("a.tar.gz")).unwrap(),
            std::fs::read(dir.path().join("b.tar.gz")).unwrap()
        );
        assert_eq!(first, second);
    }
}
