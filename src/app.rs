//! Startup that tests can drive: `build(settings)` gives an [`App`], and
//! [`App::serve`] runs it on a listener until a shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::dialect::{Access, DbError, Pool};
use crate::feed::Feed;
use crate::http::{self, auth::Tokens, AppState};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::{Store, StoreError};
use crate::tls;
use crate::verify::Verifier;

/// Why the app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the database session is not read-only; refusing to serve (run `check` for details)")]
    Writable,
}

/// A built, not yet running gateway.
pub struct App {
    router: Router,
    store: Store,
    feed: Option<Arc<Feed>>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// How long shutdown waits for in-flight requests before closing their
/// connections, over HTTP and HTTPS alike.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the gateway from settings. The pool connects lazily, so this
/// succeeds while the database is down; `/readyz` tells when it is back.
pub fn build(settings: &Settings) -> Result<App, BuildError> {
    let metrics = Metrics::new();
    let pool = Pool::open(&settings.database, Access::ReadOnly)?;
    let mut store = Store::new(
        pool,
        &settings.queries,
        settings.changes.enabled,
        settings.database.enabled_column,
        Some(metrics.clone()),
    )?
    .with_pepper_configured(settings.hashing.bcrypt_pepper.is_some());
    let db = &settings.database;
    if db.statement_timeout_ms > 0 {
        // Waiting for a connection plus the statement itself, plus a margin
        // for the database to report its own timeout first.
        let ms = db.acquire_timeout_ms + db.statement_timeout_ms + 1_000;
        store = store.with_deadline(Duration::from_millis(ms));
    }
    let verifier = Arc::new(Verifier::new(&settings.hashing, Some(metrics.clone())));
    let feed = store
        .has_change_log()
        .then(|| Feed::new(store.clone(), settings.changes.clone(), metrics.clone()));
    let state = AppState {
        store: store.clone(),
        verifier,
        metrics,
        max_page_size: settings.server.max_page_size,
        feed: feed.clone(),
    };
    let router = http::router(
        state,
        Tokens::new(&settings.auth.api_tokens),
        settings.server.body_limit_bytes,
    );
    let tls = match &settings.server.tls {
        Some(tls) => Some(tls::server_config(tls).map_err(BuildError::Tls)?),
        None => None,
    };
    Ok(App {
        router,
        store,
        feed,
        tls,
    })
}

impl App {
    /// The store, for startup checks.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Refuses to serve from a writable session; see [`refuse_writable`].
    pub async fn refuse_writable_session(&self) -> Result<(), BuildError> {
        refuse_writable(self.store.pool()).await
    }

    /// True when the app serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets
    /// in-flight requests finish (waiting change-feed requests answer at
    /// once) and closes the pool.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Some(feed) = &self.feed {
            tokio::spawn(Arc::clone(feed).watch());
        }
        // One stop signal for the transport, the feed and the drain bound.
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let feed = self.feed.clone();
        tokio::spawn(async move {
            shutdown.await;
            if let Some(feed) = feed {
                feed.stop();
            }
            stopping.send_replace(true);
        });
        let signal = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        match self.tls {
            None => {
                let server = axum::serve(listener, self.router)
                    .with_graceful_shutdown(signal(stopped.clone()));
                let drain_bound = async {
                    signal(stopped.clone()).await;
                    tokio::time::sleep(DRAIN_TIMEOUT).await;
                };
                tokio::select! {
                    served = server => served?,
                    () = drain_bound => tracing::warn!(
                        timeout_s = DRAIN_TIMEOUT.as_secs(),
                        "in-flight requests did not finish in time; closing their connections"
                    ),
                }
            }
            Some(config) => {
                let handle = axum_server::Handle::<SocketAddr>::new();
                let stopper = handle.clone();
                let stop = signal(stopped.clone());
                tokio::spawn(async move {
                    stop.await;
                    stopper.graceful_shutdown(Some(DRAIN_TIMEOUT));
                });
                let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
                axum_server::tls_rustls::from_tcp_rustls(listener.into_std()?, config)?
                    .handle(handle)
                    .serve(self.router.into_make_service())
                    .await?;
            }
        }
        self.store.pool().close().await;
        Ok(())
    }
}

/// Refuses to serve from a session the database reports as writable; a
/// database that is down now is tolerated (`/readyz` reports it until it is
/// back), with a warning.
pub async fn refuse_writable(pool: &Pool) -> Result<(), BuildError> {
    match pool.session_read_only().await {
        Ok(true) => {
            tracing::info!(
                dialect = pool.dialect().name(),
                "database session is read-only"
            );
            Ok(())
        }
        Ok(false) => Err(BuildError::Writable),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable at startup; /readyz reports 503 until it is");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DatabaseSettings, Secret};

    fn sqlite(url: String) -> DatabaseSettings {
        DatabaseSettings {
            url: Secret::new(url),
            max_connections: 1,
            acquire_timeout_ms: 1_000,
            statement_timeout_ms: 0,
            enabled_column: false,
        }
    }

    #[tokio::test]
    async fn a_writable_session_is_refused_and_a_read_only_one_served() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = sqlite(format!("sqlite://{}", dir.path().join("t.db").display()));
        let writable = Pool::open(&settings, Access::Writable).expect("pool");
        writable.ping().await.expect("creates the file");

        let refused = refuse_writable(&writable).await;
        let served = refuse_writable(&Pool::open(&settings, Access::ReadOnly).expect("pool")).await;

        assert!(matches!(refused, Err(BuildError::Writable)), "{refused:?}");
        assert!(served.is_ok(), "{served:?}");
    }

    #[tokio::test]
    async fn a_database_that_is_down_does_not_stop_the_start() {
        let settings = sqlite("sqlite:///nonexistent-dir-for-userstore-test/x.db".into());
        let pool = Pool::open(&settings, Access::ReadOnly).expect("pool");

        assert!(refuse_writable(&pool).await.is_ok());
    }
}
