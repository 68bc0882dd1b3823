//! The change feed: which users changed after a cursor, answered at once or
//! long-polled, so that Keycloak can evict exactly those users from its cache.
//!
//! One background task per gateway watches the log for everyone: it reads
//! the log's head every `poll_interval_ms` while at least one request waits,
//! and on PostgreSQL it also LISTENs for the triggers' NOTIFY. Waiting
//! requests sleep until it wakes them, so idle subscribers cost no queries
//! beyond that one poll.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;
use utoipa::ToSchema;

use crate::metrics::Metrics;
use crate::settings::ChangeSettings;
use crate::store::{Store, StoreError};

/// One answer of `GET /v1/changes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    /// Send this back as `after` to get what changed next.
    #[schema(example = "4711")]
    pub cursor: String,
    /// Ids of users whose row, roles or attributes changed, each once.
    pub changes: Vec<String>,
    /// The role catalogue changed: every user's roles may differ.
    pub roles_changed: bool,
    /// The cursor is older than what the log still holds (or from another
    /// database): drop everything cached and go on from `cursor`.
    pub resync: bool,
}

impl ChangePage {
    fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.roles_changed && !self.resync
    }
}

/// Turns one read of the log into an answer. `rows` are at most `limit`
/// entries after `after`, in cursor order; `head` and `horizon` were read
/// before them.
///
/// Several entries may share a cursor (on PostgreSQL, all entries of one
/// transaction do), so a full page may end in the middle of a cursor: those
/// trailing entries are left for the next read. A page that is one cursor
/// only is more than a page can hold; it is answered as a resync past it.
fn page(
    after: i64,
    head: i64,
    horizon: i64,
    rows: &[(i64, Option<String>)],
    limit: u32,
) -> ChangePage {
    if after < horizon || after > head {
        return ChangePage {
            cursor: head.to_string(),
            resync: true,
            ..ChangePage::default()
        };
    }
    let (kept, cursor) = match (rows.first(), rows.last()) {
        (Some(&(first, _)), Some(&(last, _))) if rows.len() >= limit as usize => {
            if first == last {
                return ChangePage {
                    cursor: last.to_string(),
                    resync: true,
                    ..ChangePage::default()
                };
            }
            let kept: Vec<_> = rows.iter().take_while(|(c, _)| *c < last).collect();
            let cursor = kept.last().map_or(after, |(c, _)| *c);
            (kept, cursor)
        }
        // A partial page holds everything up to now, and everything up to
        // the head was final when the head was read.
        (_, last) => (
            rows.iter().collect(),
            last.map_or(after, |(c, _)| *c).max(head),
        ),
    };
    let mut answer = ChangePage {
        cursor: cursor.to_string(),
        ..ChangePage::default()
    };
    for (_, user) in kept {
        match user {
            Some(id) if !answer.changes.contains(id) => answer.changes.push(id.clone()),
            Some(_) => {}
            None => answer.roles_changed = true,
        }
    }
    answer
}

/// The feed of one gateway; see the module docs.
pub struct Feed {
    store: Store,
    settings: ChangeSettings,
    metrics: Metrics,
    /// Bumped whenever the log may have grown; waiting requests hold receivers.
    wake: watch::Sender<u64>,
    /// Set at shutdown: waiting requests answer at once, the watcher ends.
    stop: watch::Sender<bool>,
}

impl Feed {
    /// A feed over the store's `changes` and `change_bounds` queries.
    pub fn new(store: Store, settings: ChangeSettings, metrics: Metrics) -> Arc<Self> {
        Arc::new(Self {
            store,
            settings,
            metrics,
            wake: watch::Sender::new(0),
            stop: watch::Sender::new(false),
        })
    }

    /// The longest a request may wait.
    pub fn max_wait(&self) -> Duration {
        Duration::from_secs(self.settings.max_wait_seconds)
    }

    /// Where a new reader starts: nothing before it will be reported.
    pub async fn head(&self) -> Result<ChangePage, StoreError> {
        let (head, _) = self.store.change_bounds().await?;
        Ok(ChangePage {
            cursor: head.to_string(),
            ..ChangePage::default()
        })
    }

    /// What changed after `after`, waiting up to `wait` (capped) for
    /// something to change if nothing has yet.
    #[tracing::instrument(skip_all, fields(after, wait_s = wait.as_secs()))]
    pub async fn after(&self, after: i64, wait: Duration) -> Result<ChangePage, StoreError> {
        let deadline = Instant::now() + wait.min(self.max_wait());
        let mut wake = self.wake.subscribe();
        let mut stop = self.stop.subscribe();
        loop {
            // Marked seen before reading, so a change during the read wakes us again.
            wake.borrow_and_update();
            let answer = self.read(after).await?;
            if !answer.is_empty() || Instant::now() >= deadline || *stop.borrow() {
                return Ok(answer);
            }
            tokio::select! {
                _ = wake.changed() => {}
                _ = stop.changed() => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    async fn read(&self, after: i64) -> Result<ChangePage, StoreError> {
        let (head, horizon) = self.store.change_bounds().await?;
        if after < horizon || after > head {
            return Ok(page(after, head, horizon, &[], self.settings.batch_limit));
        }
        let rows = self
            .store
            .changes_after(after, self.settings.batch_limit)
            .await?;
        Ok(page(after, head, horizon, &rows, self.settings.batch_limit))
    }

    /// Ends every waiting request and the watcher.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    fn bump(&self, source: &'static str) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
        self.metrics
            .counter(
                "userstore_gateway_change_wakeups_total",
                &[("source", source)],
            )
            .increment(1);
    }

    /// Watches the log until [`Feed::stop`]: polls its head while someone
    /// waits and, on PostgreSQL, listens for notifications.
    pub async fn watch(self: Arc<Self>) {
        if !self.settings.notify_channel.is_empty() {
            tokio::spawn(Arc::clone(&self).listen());
        }
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut stop = self.stop.subscribe();
        let mut last = None;
        let mut failing = false;
        loop {
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stop.changed() => return,
            }
            if self.wake.receiver_count() == 0 {
                continue;
            }
            match self.store.change_bounds().await {
                Ok(bounds) => {
                    if failing {
                        tracing::info!("the change log can be read again");
                        failing = false;
                    }
                    if last.replace(bounds) != Some(bounds) {
                        self.bump("poll");
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, "cannot read the change log; retrying every poll interval");
                        failing = true;
                    }
                }
            }
        }
    }

    /// PostgreSQL: a LISTEN connection that wakes waiting requests on every
    /// NOTIFY, reconnecting with a bounded back-off; ends at once elsewhere.
    async fn listen(self: Arc<Self>) {
        let channel = self.settings.notify_channel.clone();
        let mut stop = self.stop.subscribe();
        let mut backoff = Duration::from_secs(1);
        loop {
            let mut listener = match self.store.pool().listen(&channel).await {
                None => return,
                Some(Ok(listener)) => listener,
                Some(Err(err)) => {
                    tracing::warn!(error = %err, channel, retry_in_s = backoff.as_secs(), "cannot LISTEN for change notifications; polling meanwhile");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            tracing::info!(channel, "listening for change notifications");
            backoff = Duration::from_secs(1);
            // Whatever was notified while nobody listened is looked for now.
            self.bump("notify");
            loop {
                tokio::select! {
                    received = listener.try_recv() => match received {
                        Ok(_) => self.bump("notify"),
                        Err(err) => {
                            tracing::warn!(error = %err, channel, "lost the LISTEN connection; reconnecting");
                            break;
                        }
                    },
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(entries: &[(i64, Option<&str>)]) -> Vec<(i64, Option<String>)> {
        entries
            .iter()
            .map(|(c, u)| (*c, u.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn a_partial_page_reports_each_user_once_and_moves_to_the_head() {
        let answer = page(
            10,
            20,
            0,
            &rows(&[(11, Some("a")), (12, Some("b")), (13, Some("a"))]),
            100,
        );
        assert_eq!(answer.changes, ["a", "b"]);
        assert_eq!(answer.cursor, "20");
        assert!(!answer.roles_changed && !answer.resync);
    }

    #[test]
    fn an_empty_page_moves_to_the_head_and_never_back() {
        assert_eq!(page(10, 15, 0, &[], 100).cursor, "15");
        assert_eq!(page(15, 15, 0, &[], 100).cursor, "15");
    }

    #[test]
    fn rows_past_the_head_move_the_cursor_to_the_last_row() {
        assert_eq!(page(10, 10, 0, &rows(&[(12, Some("a"))]), 100).cursor, "12");
    }

    #[test]
    fn a_null_user_means_the_role_catalogue_changed() {
        let answer = page(0, 5, 0, &rows(&[(1, None)]), 100);
        assert!(answer.roles_changed);
        assert!(answer.changes.is_empty());
    }

    #[test]
    fn a_full_page_leaves_the_entries_of_its_last_cursor_for_the_next_read() {
        let answer = page(
            0,
            100,
            0,
            &rows(&[
                (1, Some("a")),
                (2, Some("b")),
                (3, Some("c")),
                (3, Some("d")),
            ]),
            4,
        );
        assert_eq!(answer.changes, ["a", "b"]);
        assert_eq!(
            answer.cursor, "2",
            "entries at cursor 3 come with the next read"
        );
    }

    #[test]
    fn a_full_page_of_one_cursor_is_a_resync_past_it() {
        let answer = page(0, 100, 0, &rows(&[(7, Some("a")), (7, Some("b"))]), 2);
        assert!(answer.resync);
        assert_eq!(answer.cursor, "7");
    }

    #[test]
    fn a_cursor_older_than_the_purged_entries_is_a_resync_at_the_head() {
        let answer = page(3, 50, 10, &rows(&[(11, Some("a"))]), 100);
        assert_eq!((answer.resync, answer.cursor.as_str()), (true, "50"));
        assert!(answer.changes.is_empty());
    }

    #[test]
    fn a_cursor_from_the_future_is_a_resync_at_the_head() {
        let answer = page(99, 50, 0, &[], 100);
        assert_eq!((answer.resync, answer.cursor.as_str()), (true, "50"));
    }

    #[test]
    fn a_cursor_at_the_horizon_is_still_complete() {
        assert!(!page(10, 50, 10, &[], 100).resync);
    }
}
