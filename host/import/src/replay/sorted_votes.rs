//! The dump's accepts and upvotes in replay order (day, vote id), in bounded memory: an external merge sort.
//!
//! A site the size of Stack Overflow has hundreds of millions of votes; sorting them all in memory made the replay's
//! memory grow with the dump. Votes are collected in a buffer of at most `in_memory` events; each time it fills it is
//! sorted and written to a temporary file as one run (25 bytes a vote), and reading them back merges the runs with a
//! heap, a small buffered reader per run. A dump whose votes fit in the buffer never touches the disk. The runs live
//! in a temporary folder removed when the [`SortedVotes`] is dropped.
//!
//! Owns the order and the spill files only; what a vote is, and which votes are kept, is `dump`'s.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::ReplayError;
use super::dump::VoteEvent;

/// Votes held in memory before a sorted run is written to disk: 2 million (64 MiB of 32-byte events).
pub const VOTES_IN_MEMORY: usize = 2_000_000;

/// Bytes of one vote in a run file: day, id, post (8 each, little-endian) and the kind.
const RECORD: usize = 25;

/// Read buffer per run while merging.
const RUN_BUFFER: usize = 64 * 1024;

/// Runs on disk before they are merged into one (so a merge never holds more files open than this, well under the
/// usual limit of 1,024 per process, and its buffers stay at 8 MiB; a dump of 250 million votes makes ~125 runs).
const MAX_RUNS: usize = 128;

/// The vote events of a dump, sorted by (day, id) whether they fit in memory or not.
#[derive(Debug)]
pub struct SortedVotes {
    in_memory: usize,
    /// The votes not written to a run yet (sorted once [`SortedVotes::finish`] ran).
    buffer: Vec<VoteEvent>,
    /// The runs on disk, each sorted.
    runs: Vec<PathBuf>,
    /// Where the runs are (created on the first spill).
    dir: Option<tempfile::TempDir>,
    len: u64,
}

impl SortedVotes {
    /// An empty collection that keeps at most `in_memory` votes in memory (at least one).
    pub fn new(in_memory: usize) -> SortedVotes {
        SortedVotes { in_memory: in_memory.max(1), buffer: Vec::new(), runs: Vec::new(), dir: None, len: 0 }
    }

    /// Add a vote (in any order).
    pub fn push(&mut self, vote: VoteEvent) -> Result<(), ReplayError> {
        self.buffer.push(vote);
        self.len += 1;
        if self.buffer.len() >= self.in_memory {
            self.spill()?;
        }
        Ok(())
    }

    /// Sort what is still in memory (after the last push, before reading).
    pub fn finish(&mut self) {
        self.buffer.sort_unstable();
        self.buffer.shrink_to_fit();
    }

    /// How many votes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// No votes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many sorted runs went to disk (0: everything fit in memory).
    pub fn runs_on_disk(&self) -> usize {
        self.runs.len()
    }

    /// Every vote in order, merging the runs on disk with what is in memory. Can be called again for another pass.
    pub fn iter(&self) -> Result<VoteStream<'_>, ReplayError> {
        let mut runs = Vec::with_capacity(self.runs.len());
        for path in &self.runs {
            let file = File::open(path).map_err(|source| ReplayError::Io { path: path.clone(), source })?;
            runs.push(Run { reader: BufReader::with_capacity(RUN_BUFFER, file), path });
        }
        let mut stream = VoteStream { memory: self.buffer.iter(), runs, heap: BinaryHeap::new(), memory_head: None };
        stream.memory_head = stream.memory.next().copied();
        for index in 0..stream.runs.len() {
            if let Some(vote) = stream.runs[index].read()? {
                stream.heap.push(Reverse((vote, index)));
            }
        }
        Ok(stream)
    }

    /// Sort the buffer and write it as a run.
    fn spill(&mut self) -> Result<(), ReplayError> {
        if self.dir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("cadre-votes-")
                .tempdir()
                .map_err(|source| ReplayError::Io { path: std::env::temp_dir(), source })?;
            self.dir = Some(dir);
        }
        let dir = self.dir.as_ref().expect("created above").path();
        let path = dir.join(format!("run-{}", self.runs.len()));
        self.buffer.sort_unstable();
        write_run(&path, &self.buffer).map_err(|source| ReplayError::Io { path: path.clone(), source })?;
        self.runs.push(path);
        self.buffer.clear();
        if self.runs.len() >= MAX_RUNS {
            self.merge_runs()?;
        }
        Ok(())
    }

    /// Merge every run on disk into one (the buffer is empty: it was just spilled).
    fn merge_runs(&mut self) -> Result<(), ReplayError> {
        let dir = self.dir.as_ref().expect("runs live in the folder").path();
        let merged = dir.join(format!("merged-{}", self.len));
        {
            let file = File::create(&merged).map_err(|source| ReplayError::Io { path: merged.clone(), source })?;
            let mut out = BufWriter::with_capacity(RUN_BUFFER, file);
            let mut stream = self.iter()?;
            while let Some(vote) = stream.next_vote()? {
                out.write_all(&encode(&vote)).map_err(|source| ReplayError::Io { path: merged.clone(), source })?;
            }
            out.flush().map_err(|source| ReplayError::Io { path: merged.clone(), source })?;
        }
        for run in self.runs.drain(..) {
            std::fs::remove_file(&run).map_err(|source| ReplayError::Io { path: run.clone(), source })?;
        }
        self.runs.push(merged);
        Ok(())
    }
}

fn write_run(path: &Path, votes: &[VoteEvent]) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(RUN_BUFFER, File::create(path)?);
    for vote in votes {
        out.write_all(&encode(vote))?;
    }
    // No fsync: the runs are scratch, and a replay that stops reads the dump again from the start of its pre-pass.
    out.flush()
}

/// A vote as a run stores it.
fn encode(vote: &VoteEvent) -> [u8; RECORD] {
    let mut record = [0u8; RECORD];
    record[0..8].copy_from_slice(&vote.day.to_le_bytes());
    record[8..16].copy_from_slice(&vote.id.to_le_bytes());
    record[16..24].copy_from_slice(&vote.post.to_le_bytes());
    record[24] = vote.kind;
    record
}

/// One sorted run being read back.
struct Run<'a> {
    reader: BufReader<File>,
    path: &'a Path,
}

impl Run<'_> {
    fn read(&mut self) -> Result<Option<VoteEvent>, ReplayError> {
        let mut record = [0u8; RECORD];
        match self.reader.read_exact(&mut record) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(source) => return Err(ReplayError::Io { path: self.path.to_owned(), source }),
        }
        let word = |at: usize| <[u8; 8]>::try_from(&record[at..at + 8]).expect("8 bytes");
        Ok(Some(VoteEvent {
            day: i64::from_le_bytes(word(0)),
            id: i64::from_le_bytes(word(8)),
            post: u64::from_le_bytes(word(16)),
            kind: record[24],
        }))
    }
}

/// The votes in order (see [`SortedVotes::iter`]): `peek` and `next`, each of which may fail reading a run.
pub struct VoteStream<'a> {
    memory: std::slice::Iter<'a, VoteEvent>,
    memory_head: Option<VoteEvent>,
    runs: Vec<Run<'a>>,
    /// The head of each run still open, smallest first.
    heap: BinaryHeap<Reverse<(VoteEvent, usize)>>,
}

impl VoteStream<'_> {
    /// The next vote without taking it.
    pub fn peek(&self) -> Option<VoteEvent> {
        let disk = self.heap.peek().map(|Reverse((vote, _))| *vote);
        match (self.memory_head, disk) {
            (Some(memory), Some(disk)) => Some(memory.min(disk)),
            (memory, disk) => memory.or(disk),
        }
    }

    /// Take the next vote.
    pub fn next_vote(&mut self) -> Result<Option<VoteEvent>, ReplayError> {
        let from_disk = match (self.memory_head, self.heap.peek()) {
            (Some(memory), Some(Reverse((disk, _)))) => *disk < memory,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if !from_disk {
            let vote = self.memory_head;
            self.memory_head = self.memory.next().copied();
            return Ok(vote);
        }
        let Reverse((vote, run)) = self.heap.pop().expect("peeked above");
        if let Some(next) = self.runs[run].read()? {
            self.heap.push(Reverse((next, run)));
        }
        Ok(Some(vote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(n: u64) -> Vec<VoteEvent> {
        // A fixed scramble with repeated days and some equal (day, id) pairs on different posts.
        (0..n)
            .map(|i| {
                let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
                VoteEvent { day: (x % 37) as i64, id: (x % 1_000) as i64, post: i, kind: 1 + (x % 2) as u8 }
            })
            .collect()
    }

    fn drain(sorted: &SortedVotes) -> Vec<VoteEvent> {
        let mut stream = sorted.iter().unwrap();
        let mut out = Vec::new();
        while let Some(peeked) = stream.peek() {
            let vote = stream.next_vote().unwrap().unwrap();
            assert_eq!(peeked, vote, "peek shows what next takes");
            out.push(vote);
        }
        assert_eq!(stream.next_vote().unwrap(), None);
        out
    }

    #[test]
    fn votes_come_back_in_the_order_of_an_in_memory_sort_however_many_runs_went_to_disk() {
        let input = votes(10_007);
        let mut expected = input.clone();
        expected.sort_unstable();
        // 1 and 7 make more runs than are ever open at once (they are merged along the way).
        for in_memory in [1, 7, 1_000, 10_007, 1_000_000] {
            let mut sorted = SortedVotes::new(in_memory);
            for vote in &input {
                sorted.push(*vote).unwrap();
            }
            sorted.finish();
            assert_eq!(sorted.len(), 10_007);
            assert_eq!(sorted.runs_on_disk() > 0, in_memory <= 10_007, "{in_memory}");
            assert!(sorted.runs_on_disk() < MAX_RUNS, "{in_memory}: {} runs", sorted.runs_on_disk());
            assert_eq!(drain(&sorted), expected, "{in_memory} in memory");
            assert_eq!(drain(&sorted), expected, "a second pass reads the same");
        }
    }

    #[test]
    fn the_spill_folder_is_removed_with_the_votes() {
        let mut sorted = SortedVotes::new(2);
        for vote in votes(5) {
            sorted.push(vote).unwrap();
        }
        sorted.finish();
        let dir = sorted.dir.as_ref().unwrap().path().to_owned();
        assert!(dir.exists());
        drop(sorted);
        assert!(!dir.exists(), "no run file is left behind");
    }
}
