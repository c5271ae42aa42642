//! `cadre bench dump SITE`: how `cadre replay`'s peak memory grows with the size of a real Stack Exchange dump.
//!
//! The site's dump is written N times over into one larger dump (every copy's post, vote and user ids moved past
//! the previous copy's, dates kept, so the copies interleave day by day like a site N times as busy), and each size
//! is replayed in a child process that reports its own peak RSS (`VmHWM`) and rate. Each size runs twice: with the
//! default bounds ([`VOTES_IN_MEMORY`] votes sorted in memory, [`POSTS_IN_MEMORY`] posts indexed in memory), and
//! with at most `--spill-at` votes and `--posts-spill-at` posts in memory (the external sort's runs and the post
//! index's scratch table on disk), so one run shows what the bounds save and what the disk costs. Nothing here
//! asserts a figure.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use cadre_import::replay::post_index::POSTS_IN_MEMORY;
use cadre_import::replay::sorted_votes::VOTES_IN_MEMORY;
use cadre_import::replay::source::DumpFile;

/// Options of `cadre bench dump`.
#[derive(Debug, clap::Args)]
pub struct BenchDumpArgs {
    /// The site folder (Posts, Votes and Users as .xml, .xml.xz or .xml.gz).
    pub site: PathBuf,
    /// The sizes to measure, as copies of the dump.
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 10, 100])]
    pub scales: Vec<u32>,
    /// Votes held in memory in the second run of each size (the rest sorted in runs on disk).
    #[arg(long, default_value_t = 50_000)]
    pub spill_at: usize,
    /// Posts indexed in memory in the second run of each size (past them the index is a scratch table on disk).
    #[arg(long, default_value_t = 10_000)]
    pub posts_spill_at: usize,
    /// Write the scaled dumps in this folder and keep them (`x1/`, `x10/`, …; default: a temporary one, removed).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal: replay SITE as it is (already scaled) and print the peak RSS in KiB and the events/s.
    #[arg(long, hide = true)]
    pub child: bool,
    /// Internal: the votes in memory for `--child`.
    #[arg(long, hide = true, default_value_t = VOTES_IN_MEMORY)]
    pub votes_in_memory: usize,
    /// Internal: the posts indexed in memory for `--child`.
    #[arg(long, hide = true, default_value_t = POSTS_IN_MEMORY)]
    pub posts_in_memory: usize,
}

/// One size of the dump, replayed twice.
#[derive(Debug, Serialize)]
pub struct DumpRow {
    /// Copies of the site.
    pub scale: u32,
    /// Posts rows in the scaled dump.
    pub posts: u64,
    /// Votes rows in the scaled dump.
    pub votes: u64,
    /// Peak RSS (MiB) with the votes sorted and the posts indexed in memory up to the default bounds.
    pub peak_mib: f64,
    /// Events/s of that run.
    pub events_per_s: f64,
    /// Peak RSS (MiB) with at most `spill_at` votes and `posts_spill_at` posts in memory.
    pub peak_mib_spilling: f64,
    /// Events/s of that run.
    pub events_per_s_spilling: f64,
}

/// Run the benchmark (or, with `--child`, one replay).
pub fn run(args: &BenchDumpArgs) -> anyhow::Result<u8> {
    if args.child {
        let (kib, rate) = child(&args.site, args.votes_in_memory, args.posts_in_memory)?;
        println!("{kib} {rate}");
        return Ok(0);
    }
    let work = tempfile::Builder::new().prefix("cadre-bench-dump-").tempdir()?;
    let root = args.dir.as_deref().unwrap_or(work.path());
    let mut rows = Vec::new();
    for &scale in &args.scales {
        let dir = root.join(format!("x{scale}"));
        let (posts, votes) = write_scaled(&args.site, &dir, scale.max(1))?;
        let (kib, rate) = child_process(&dir, VOTES_IN_MEMORY, POSTS_IN_MEMORY)?;
        let (kib_spilling, rate_spilling) = child_process(&dir, args.spill_at, args.posts_spill_at)?;
        if args.dir.is_none() {
            std::fs::remove_dir_all(&dir).ok();
        }
        rows.push(DumpRow {
            scale,
            posts,
            votes,
            peak_mib: kib as f64 / 1024.0,
            events_per_s: rate,
            peak_mib_spilling: kib_spilling as f64 / 1024.0,
            events_per_s_spilling: rate_spilling,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "cadre bench dump {} (stackexchange preset, each size in a fresh process)\n\n{:>6} {:>10} {:>11} {:>12} {:>10} {:>16} {:>12}",
            args.site.display(),
            "copies",
            "posts",
            "votes",
            "peak MiB",
            "events/s",
            format!("peak MiB ≤{}/{}", args.spill_at, args.posts_spill_at),
            "events/s"
        );
        for r in &rows {
            println!(
                "{:>6} {:>10} {:>11} {:>12.1} {:>10.0} {:>16.1} {:>12.0}",
                r.scale, r.posts, r.votes, r.peak_mib, r.events_per_s, r.peak_mib_spilling, r.events_per_s_spilling
            );
        }
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            println!(
                "\npeak RSS ×{} → ×{}: {:.2}× (default bounds), {:.2}× (at most {} votes and {} posts in memory)",
                first.scale,
                last.scale,
                last.peak_mib / first.peak_mib.max(1e-9),
                last.peak_mib_spilling / first.peak_mib_spilling.max(1e-9),
                args.spill_at,
                args.posts_spill_at
            );
        }
    }
    Ok(0)
}

fn child_process(site: &Path, votes_in_memory: usize, posts_in_memory: usize) -> anyhow::Result<(u64, f64)> {
    let (votes_in_memory, posts_in_memory) = (votes_in_memory.to_string(), posts_in_memory.to_string());
    let args =
        ["bench", "dump", "--child", "--votes-in-memory", &votes_in_memory, "--posts-in-memory", &posts_in_memory]
            .map(std::ffi::OsStr::new);
    super::replay::measured_child(&[&args[..], &[site.as_os_str()]].concat())
}

/// Replay `site` into a new database in this process; its peak RSS (KiB) and events/s.
fn child(site: &Path, votes_in_memory: usize, posts_in_memory: usize) -> anyhow::Result<(u64, f64)> {
    let db = tempfile::tempdir()?;
    let runtime = cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), None)?;
    let options = cadre_import::replay::Options {
        site: site.to_owned(),
        settings: cadre_rules::presets::STACKEXCHANGE.to_owned(),
        db: db.path().join("replay.db"),
        quiet: true,
        batch: cadre_import::replay::feed::BATCH,
        votes_in_memory,
        posts_in_memory,
    };
    let replayed = cadre_import::replay::replay(&options, runtime).context("replaying the scaled dump")?;
    let kib = super::replay::peak_rss_kib().context("reading VmHWM from /proc/self/status")?;
    Ok((kib, replayed.report.events_per_second))
}

/// Per file: its name, its root tag, the attributes holding a post or vote id, and those holding a user id (all
/// moved by each copy).
const IDS: [(&str, &str, &[&str], &[&str]); 3] = [
    ("Posts", "posts", &["Id", "ParentId", "AcceptedAnswerId"], &["OwnerUserId", "LastEditorUserId"]),
    ("Votes", "votes", &["Id", "PostId"], &["UserId"]),
    ("Users", "users", &[], &["Id"]),
];

/// How far each copy's ids move: past any id a real site has.
const COPY_OFFSET: i64 = 1_000_000_000;

/// Write `scale` copies of the site's dump into `out` (uncompressed); the Posts and Votes row counts.
fn write_scaled(site: &Path, out: &Path, scale: u32) -> anyhow::Result<(u64, u64)> {
    std::fs::create_dir_all(out)?;
    let mut counts = [0u64; 3];
    for (index, (name, tag, post_ids, user_ids)) in IDS.iter().enumerate() {
        let source = DumpFile::find(site, name)?;
        let path = out.join(format!("{name}.xml"));
        let mut file = BufWriter::new(std::fs::File::create(&path).with_context(|| path.display().to_string())?);
        writeln!(file, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{tag}>")?;
        for copy in 0..scale as i64 {
            let mut rows = source.rows()?;
            while let Some(row) = rows.next()? {
                write!(file, "  <row")?;
                for (key, value) in row.attributes() {
                    let moved = |offset: i64| match value.parse::<i64>() {
                        // Negative user ids are Stack Exchange's own (Community): one of them in every copy.
                        Ok(id) if id > 0 => (id + copy * offset).to_string(),
                        _ => value.clone(),
                    };
                    let value = if post_ids.contains(&key.as_str()) || user_ids.contains(&key.as_str()) {
                        moved(COPY_OFFSET)
                    } else {
                        value.clone()
                    };
                    write!(file, " {key}=\"{}\"", escape(&value))?;
                }
                writeln!(file, " />")?;
                counts[index] += 1;
            }
        }
        writeln!(file, "</{tag}>")?;
        file.flush()?;
    }
    Ok((counts[0], counts[1]))
}

/// `value` as an XML attribute value (the dumps' own escapes: `&`, `<`, `>`, `"`, and line breaks kept as
/// character references).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}
