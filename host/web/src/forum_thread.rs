//! The forum's own thread. A [`Forum`] holds one SQLite connection and the loaded program (neither may be shared
//! between threads), so it lives on one thread and request handlers send it jobs: every read and write of the web
//! server runs there, one at a time, in arrival order. That is also the pipeline's order of events.
//!
//! Reads that need no program (the member pages) go instead to [`Readers`](super::readers::Readers), read-only
//! connections to the same file, through [`ForumHandle::read`]: they do not queue behind writes.
//!
//! Owns only the hand-over (a channel in, a one-shot reply out). What a job does is the caller's business.

use std::sync::{Arc, mpsc};

use cadre_core::Forum;
use cadre_core::forum::public_ids::PublicIds;
use rusqlite::Connection;

use super::error::WebError;
use super::readers::Readers;

type Job = Box<dyn FnOnce(&mut Forum) + Send>;

/// A cheap, cloneable handle to the forum thread.
#[derive(Clone)]
pub struct ForumHandle {
    jobs: mpsc::Sender<Job>,
    /// Read-only connections (`None`: an in-memory forum, read on its thread).
    readers: Option<Arc<Readers>>,
    /// The forum's public-id key (it never changes once the schema has it).
    ids: Arc<PublicIds>,
}

/// The forum thread is gone (it panicked or could not open the forum).
#[derive(Debug, thiserror::Error)]
#[error("the forum thread has stopped")]
pub struct Stopped;

impl ForumHandle {
    /// Start the forum thread: `open` runs on it and builds the forum (which then never leaves it). Returns once
    /// the forum is open, or with the error `open` gave.
    pub fn spawn(open: impl FnOnce() -> anyhow::Result<Forum> + Send + 'static) -> anyhow::Result<ForumHandle> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, opened) = mpsc::channel::<anyhow::Result<(Option<String>, PublicIds)>>();
        std::thread::Builder::new().name("cadre-forum".into()).spawn(move || {
            let mut forum = match open() {
                Ok(forum) => {
                    let path = forum.conn().path().filter(|path| !path.is_empty()).map(str::to_owned);
                    match PublicIds::load(forum.conn()) {
                        Ok(ids) => {
                            let _ = ready.send(Ok((path, ids)));
                        }
                        Err(error) => {
                            let _ = ready.send(Err(anyhow::Error::new(error).context("loading the public-id key")));
                            return;
                        }
                    }
                    forum
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            // Ends when every handle is dropped.
            // A job that panics loses its reply (its request gets a 500); the thread goes on serving the others.
            for job in queue {
                // What a job reads (the panel's tiers, a member's record, the settings) comes from the program in
                // force, which another process (`cadre plugin upgrade`, `rollback`, `program apply`) may have changed.
                forum.follow_program_in_force();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut forum)));
            }
        })?;
        let (path, ids) =
            opened.recv().map_err(|_| anyhow::anyhow!("the forum thread stopped while opening the forum"))??;
        let readers = path.map(|path| Arc::new(Readers::new(path.into())));
        Ok(ForumHandle { jobs, readers, ids: Arc::new(ids) })
    }

    /// The forum's public ids (how posts are named in URLs and the API).
    pub fn ids(&self) -> &PublicIds {
        &self.ids
    }

    /// Run a read on a read-only connection, without waiting for the writes queued on the forum thread (an
    /// in-memory forum reads on its thread). It sees every write committed before it starts.
    pub async fn read<R: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, WebError> {
        match &self.readers {
            Some(readers) => readers.run(read).await,
            None => Ok(self.run(move |forum| read(forum.conn())).await??),
        }
    }

    /// Run `job` on the forum thread and wait (asynchronously) for its result.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Forum) -> R + Send + 'static,
    ) -> Result<R, Stopped> {
        let (reply, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |forum: &mut Forum| {
                let _ = reply.send(job(forum));
            }))
            .map_err(|_| Stopped)?;
        result.await.map_err(|_| Stopped)
    }
}
