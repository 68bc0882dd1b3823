//! Password verification: stored-hash policy, dummy work for unknown users,
//! and hashing off the async threads with a bounded number at once.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::password::{CryptHash, Limits, Scheme, Verdict};
use crate::settings::HashingSettings;
use crate::store::Credentials;

/// Why a verification said what it said; a metric label, never shown to callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    WrongPassword,
    UnknownUser,
    Disabled,
    NoHash,
    UnusableHash,
    OverLimit,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::WrongPassword => "wrong_password",
            Self::UnknownUser => "unknown_user",
            Self::Disabled => "disabled",
            Self::NoHash => "no_hash",
            Self::UnusableHash => "unusable_hash",
            Self::OverLimit => "over_limit",
        }
    }
}

/// Verifies passwords against stored crypt(3) hashes.
pub struct Verifier {
    limits: Limits,
    permits: Arc<Semaphore>,
    /// Scheme and cost of the last real hash seen, so the dummy work for an
    /// unknown user costs what a real check costs in this database.
    dummy_shape: Mutex<(Scheme, u32)>,
    metrics: Option<Metrics>,
}

impl Verifier {
    /// A verifier with the configured limits and concurrency.
    pub fn new(settings: &HashingSettings, metrics: Option<Metrics>) -> Self {
        let concurrent = match settings.max_concurrent {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        Self {
            limits: settings.limits(),
            permits: Arc::new(Semaphore::new(concurrent)),
            dummy_shape: Mutex::new((Scheme::Sha512Crypt, 5_000)),
            metrics,
        }
    }

    /// Decides whether `password` is right for the user `credentials`
    /// describe (`None`: no such user). Every "no" looks the same to the
    /// caller and costs about as much as a wrong password.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn check(
        &self,
        user_id: &str,
        credentials: Option<Credentials>,
        password: String,
    ) -> Outcome {
        let outcome = self.decide(credentials, password).await;
        match outcome {
            Outcome::UnusableHash => {
                tracing::warn!(
                    "stored password hash is malformed or of an unsupported scheme; login refused"
                )
            }
            Outcome::OverLimit => tracing::warn!(
                max_password_bytes = self.limits.max_password_bytes,
                max_rounds = self.limits.max_rounds,
                max_bcrypt_cost = self.limits.max_bcrypt_cost,
                "password or hash cost over the configured limit; refused without hashing"
            ),
            _ => tracing::debug!(outcome = outcome.label(), "password checked"),
        }
        if let Some(m) = &self.metrics {
            m.counter(
                "userstore_gateway_password_checks_total",
                &[("outcome", outcome.label())],
            )
            .increment(1);
        }
        outcome
    }

    async fn decide(&self, credentials: Option<Credentials>, password: String) -> Outcome {
        // Before anything else, so that every user is refused alike and unhashed.
        if self.limits.password_too_long(&password) {
            return Outcome::OverLimit;
        }
        let (hash, miss) = match credentials {
            None => (None, Outcome::UnknownUser),
            Some(c) if !c.enabled => (None, Outcome::Disabled),
            Some(Credentials {
                password_hash: None,
                ..
            }) => (None, Outcome::NoHash),
            Some(Credentials {
                password_hash: Some(stored),
                ..
            }) => match CryptHash::parse(&stored) {
                Ok(hash) => (Some(hash), Outcome::WrongPassword),
                Err(_) => (None, Outcome::UnusableHash),
            },
        };
        let Some(hash) = hash else {
            let (scheme, cost) = self
                .dummy_shape
                .lock()
                .map_or((Scheme::Sha512Crypt, 5_000), |s| *s);
            self.hash_blocking(CryptHash::dummy(scheme, cost), password)
                .await;
            return miss;
        };
        let shape = (hash.scheme(), hash.cost());
        match self.hash_blocking(hash, password).await {
            Verdict::PasswordTooLong | Verdict::CostTooHigh => Outcome::OverLimit,
            verdict => {
                // Only hashes that were really computed set the dummy's cost.
                if let Ok(mut dummy) = self.dummy_shape.lock() {
                    *dummy = shape;
                }
                if verdict == Verdict::Match {
                    Outcome::Valid
                } else {
                    miss
                }
            }
        }
    }

    async fn hash_blocking(&self, hash: CryptHash, password: String) -> Verdict {
        let Ok(_permit) = self.permits.acquire().await else {
            return Verdict::Mismatch;
        };
        let limits = self.limits.clone();
        let (scheme, cost) = (hash.scheme(), hash.cost());
        let span = tracing::Span::current();
        let verdict =
            tokio::task::spawn_blocking(move || span.in_scope(|| hash.verify(&password, &limits)))
                .instrument(tracing::Span::current())
                .await
                .unwrap_or(Verdict::Mismatch);
        // Counted by scheme and cost so that operators (and tests) can see
        // that unknown users cost the same hashing work as known ones.
        if matches!(verdict, Verdict::Match | Verdict::Mismatch) {
            if let Some(m) = &self.metrics {
                let cost = cost.to_string();
                let labels = [("scheme", scheme.name()), ("cost", cost.as_str())];
                m.counter("userstore_gateway_hash_computations_total", &labels)
                    .increment(1);
            }
        }
        verdict
    }
}
