//! Storing one bulk result while it downloads. A reading task streams the
//! grouped JSONL, hands out each root once the next one begins (it is then
//! complete), converts it into records made from the lines' own text (never
//! a parsed tree, see `records_text`), and passes batches on through a small
//! channel; the engine commits each batch with a checkpoint
//! that counts the roots stored so far. Download, parsing and conversion thus
//! overlap with sealing and writing, and memory holds a few batches whatever
//! the result's size.
//!
//! A complete result's last batch commits the job's end, after the file is
//! checked against the object count Shopify reported. A failed job's partial
//! result may end inside its last root: that root is dropped, the others are
//! committed, and the job's resume point moves to the last committed root's
//! `updatedAt` — as long as the file came in `updatedAt` order, which every
//! bulk query asks for; otherwise the resume point stays put.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::shopify::ShopifyError;
use crate::shopify::bulk;
use crate::shopify::jsonl_text::{TextGroupedReader, TextRoot};
use crate::sync::bulk_job::ResultFile;
use crate::sync::records::{ConversionError, Converted};
use crate::sync::source::Source;
use crate::sync::state::JobCursor;

use super::job::Place;
use super::{Engine, SyncError};

/// Downloads of one result before it counts as unusable.
const DOWNLOAD_ATTEMPTS: u32 = 5;

/// Batches read ahead of the one being committed.
const READ_AHEAD: usize = 2;

/// Converted records of a run of consecutive roots.
struct Batch {
    converted: Converted,
    roots: u64,
    /// The `updatedAt` of the last root read so far, while every root came
    /// in `updatedAt` order.
    position: Option<Timestamp>,
    /// No batch follows.
    last: bool,
}

enum Failure {
    Read(ShopifyError),
    Convert(ConversionError),
}

/// What the reading task needs.
struct Reading {
    http: reqwest::Client,
    url: String,
    source: Source,
    /// A failed job's partial file: its last root may be incomplete.
    partial: bool,
    /// Objects a complete file must hold.
    objects: Option<u64>,
    /// Roots already committed from this file.
    skip: u64,
    batch_size: usize,
}

impl Engine<'_> {
    /// Stores `file` of the job's current operation, advancing `cursor` and
    /// `records` with every commit. `Ok(None)`: a complete file ended the
    /// job, or a partial file's complete roots are stored; `Ok(Some(why))`:
    /// the file could not be read (what was committed stays, `cursor` says
    /// where to resume).
    pub(super) async fn store_result(
        &mut self,
        source: &Source,
        file: &ResultFile,
        partial: bool,
        cursor: &mut JobCursor,
        records: &mut u64,
        place: &Place,
    ) -> Result<Option<String>, SyncError> {
        let recordset = source.recordset();
        let mut position = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (tx, mut rx) = mpsc::channel(READ_AHEAD);
            let task = tokio::spawn(read(
                Reading {
                    http: self.client.http().clone(),
                    url: file.url.clone(),
                    source: source.clone(),
                    partial,
                    objects: file.objects,
                    skip: cursor.stored_roots,
                    batch_size: self.config.batch_size.max(1),
                },
                tx,
            ));
            let _abort = AbortOnDrop(task.abort_handle());
            let failure = loop {
                let message = tokio::select! {
                    message = rx.recv() => message,
                    _ = self.stop.raised() => return Err(SyncError::Stopped),
                };
                let batch = match message {
                    Some(Ok(batch)) => batch,
                    Some(Err(Failure::Convert(e))) => return Err(e.into()),
                    Some(Err(Failure::Read(e))) => break e,
                    None => {
                        break ShopifyError::Transport("the bulk result reader ended early".into());
                    }
                };
                let written = batch.converted.total();
                let added = batch.converted.count(recordset) as u64;
                let moved = JobCursor {
                    stored_roots: cursor.stored_roots + batch.roots,
                    ..cursor.clone()
                };
                let ends_job = batch.last && !partial;
                let advanced = if ends_job {
                    place.done(*records + added)
                } else {
                    place.hold(&moved, *records + added)
                };
                self.commit_batch(source, batch.converted, &advanced)
                    .await?;
                *records += added;
                *cursor = moved;
                position = batch.position;
                let now = (!ends_job).then_some(&*cursor);
                self.committed(recordset, place, now, *records, batch.roots, written);
                if ends_job {
                    return Ok(None);
                }
                if batch.last {
                    resume_at(cursor, position);
                    return Ok(None);
                }
                self.check_stop()?;
            };
            if !(failure.is_retryable() || matches!(failure, ShopifyError::Decode(_))) {
                return Err(failure.into());
            }
            if attempt >= DOWNLOAD_ATTEMPTS {
                resume_at(cursor, position);
                return Ok(Some(format!("bulk result unusable: {failure}")));
            }
            let wait = match &failure {
                ShopifyError::Server {
                    retry_after: Some(d),
                    ..
                } => *d,
                _ => Duration::from_secs(1 << attempt),
            };
            tracing::warn!(store = self.client.store(), error = %failure, stored_roots = cursor.stored_roots,
                "reading the bulk result failed; reading the rest again");
            tokio::select! {
                _ = self.client.clock().sleep(wait) => {}
                _ = self.stop.raised() => return Err(SyncError::Stopped),
            }
        }
    }
}

/// Moves the resume point to `position`, the `updatedAt` of the last root
/// committed from an operation that is now abandoned. The cursor's roots
/// count belongs to that operation and no longer applies.
fn resume_at(cursor: &mut JobCursor, position: Option<Timestamp>) {
    if let Some(p) = position {
        cursor.resume_from = Some(cursor.resume_from.map_or(p, |r| r.max(p)));
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The reading task: sends batches, then either a last batch or a failure.
async fn read(reading: Reading, tx: mpsc::Sender<Result<Batch, Failure>>) {
    if let Err(failure) = read_batches(&reading, &tx).await {
        let _ = tx.send(Err(failure)).await;
    }
}

async fn read_batches(
    reading: &Reading,
    tx: &mpsc::Sender<Result<Batch, Failure>>,
) -> Result<(), Failure> {
    let mut lines = bulk::open(&reading.http, &reading.url)
        .await
        .map_err(Failure::Read)?;
    let mut reader = TextGroupedReader::new();
    let mut roots = Roots {
        reading,
        tx,
        order: Order::default(),
        seen: 0,
        batch: Converted::default(),
        batched: 0,
    };
    'file: while let Some(buffer) = lines.next_lines().await.map_err(Failure::Read)? {
        let terminated = buffer.last() == Some(&b'\n');
        let mut parts = buffer.split(|b| *b == b'\n').peekable();
        while let Some(line) = parts.next() {
            let root = match reader.push_line(line) {
                Ok(root) => root,
                // A partial file may stop inside its last line.
                Err(_) if reading.partial && !terminated && parts.peek().is_none() => break 'file,
                Err(e) => return Err(Failure::Read(ShopifyError::Decode(e.to_string()))),
            };
            if let Some(root) = root
                && !roots.push(root).await?
            {
                return Ok(());
            }
        }
    }
    if !reading.partial {
        let objects = reader.lines();
        if let Some(last) = reader.finish()
            && !roots.push(last).await?
        {
            return Ok(());
        }
        if let Some(expected) = reading.objects
            && objects < expected
        {
            return Err(Failure::Read(ShopifyError::Decode(format!(
                "the result holds {objects} objects where Shopify reported {expected}; it was cut short"
            ))));
        }
    }
    roots.send(true).await?;
    Ok(())
}

/// Complete roots on their way to the engine. Each is converted as soon as
/// it is complete, so only its records' text is held, never a batch of
/// parsed trees.
struct Roots<'r> {
    reading: &'r Reading,
    tx: &'r mpsc::Sender<Result<Batch, Failure>>,
    order: Order,
    /// Complete roots read, skipped ones included.
    seen: u64,
    batch: Converted,
    batched: u64,
}

impl Roots<'_> {
    /// Takes one complete root; `false` once the engine stopped listening.
    async fn push(&mut self, root: TextRoot) -> Result<bool, Failure> {
        self.seen += 1;
        self.order.observe(&root);
        if self.seen <= self.reading.skip {
            return Ok(true);
        }
        self.reading
            .source
            .convert_text(&root, &mut self.batch)
            .map_err(Failure::Convert)?;
        self.batched += 1;
        if self.batched >= self.reading.batch_size as u64 {
            return self.send(false).await;
        }
        Ok(true)
    }

    async fn send(&mut self, last: bool) -> Result<bool, Failure> {
        let batch = Batch {
            converted: std::mem::take(&mut self.batch),
            roots: std::mem::take(&mut self.batched),
            position: self.order.position(),
            last,
        };
        Ok(self.tx.send(Ok(batch)).await.is_ok())
    }
}

/// Whether roots came in `updatedAt` order, and the last one's.
#[derive(Debug, Default)]
struct Order {
    last: Option<Timestamp>,
    broken: bool,
}

impl Order {
    fn observe(&mut self, root: &TextRoot) {
        let at = root
            .root
            .str("updatedAt")
            .and_then(|t| t.parse::<Timestamp>().ok());
        match at {
            Some(t) if !self.broken && self.last.is_none_or(|l| t >= l) => self.last = Some(t),
            _ => self.broken = true,
        }
    }

    fn position(&self) -> Option<Timestamp> {
        if self.broken { None } else { self.last }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::jsonl_text::TextObject;

    fn root(updated: &str) -> TextRoot {
        TextRoot {
            root: TextObject::parse(format!(r#"{{"updatedAt":"{updated}"}}"#).as_bytes()).unwrap(),
            children: Vec::new(),
        }
    }

    #[test]
    fn the_position_follows_roots_in_updated_at_order_and_is_lost_when_they_are_not() {
        let mut order = Order::default();
        assert_eq!(order.position(), None);
        order.observe(&root("2026-11-01T00:00:00Z"));
        order.observe(&root("2026-11-01T00:00:00Z"));
        order.observe(&root("2026-11-02T00:00:00Z"));
        assert_eq!(
            order.position(),
            Some("2026-11-02T00:00:00Z".parse().unwrap())
        );
        order.observe(&root("2026-11-01T12:00:00Z"));
        assert_eq!(order.position(), None, "out of order: no safe resume point");
        order.observe(&root("2026-11-03T00:00:00Z"));
        assert_eq!(order.position(), None);
        let mut missing = Order::default();
        missing.observe(&TextRoot {
            root: TextObject::parse(b"{}").unwrap(),
            children: Vec::new(),
        });
        assert_eq!(missing.position(), None);
    }

    #[test]
    fn the_resume_point_only_moves_forward() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let mut cursor = JobCursor {
            operation: Some("gid://shopify/BulkOperation/1".into()),
            resume_from: Some(at("2026-11-02T00:00:00Z")),
            ..JobCursor::default()
        };
        resume_at(&mut cursor, None);
        assert_eq!(cursor.resume_from, Some(at("2026-11-02T00:00:00Z")));
        resume_at(&mut cursor, Some(at("2026-11-03T00:00:00Z")));
        assert_eq!(cursor.resume_from, Some(at("2026-11-03T00:00:00Z")));
    }
}
