//! Password verification: stored-hash policy, dummy work for unknown users,
//! and hashing off the async threads with a bounded number at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::password::{claimed_hasher, HashError, Limits, Scheme, StoredHash, Verdict};
use crate::settings::{HashingSettings, Secret};
use crate::store::Credentials;

/// How often a hasher whose stored values keep failing to parse is logged again.
const UNUSABLE_REPORT_INTERVAL: Duration = Duration::from_secs(600);

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

/// Verifies passwords against stored hashes.
pub struct Verifier {
    limits: Limits,
    pepper: Option<Secret>,
    permits: Arc<Semaphore>,
    /// The last real hash computed; its decoy is the work done for an unknown
    /// user, so that costs what a real check of this database costs: the same
    /// scheme, cost and parameters.
    last_real: Mutex<StoredHash>,
    unusable: UnusableLog,
    metrics: Option<Metrics>,
}

/// Stored values that are no usable password, counted per hasher: logged at
/// the first one and then at most every ten minutes, with the count.
#[derive(Default)]
struct UnusableLog {
    seen: Mutex<HashMap<&'static str, Tally>>,
}

struct Tally {
    count: u64,
    reported_at: Instant,
}

impl UnusableLog {
    fn record(&self, hasher: &'static str, error: &HashError) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let now = Instant::now();
        match seen.get_mut(hasher) {
            None => {
                seen.insert(
                    hasher,
                    Tally {
                        count: 1,
                        reported_at: now,
                    },
                );
                tracing::warn!(
                    hasher,
                    count = 1,
                    reason = %error,
                    "stored password value is no usable password; login refused \
                     (further ones of this hasher are counted and logged every 10 minutes)"
                );
            }
            Some(tally) => {
                tally.count += 1;
                if now.duration_since(tally.reported_at) >= UNUSABLE_REPORT_INTERVAL {
                    tally.reported_at = now;
                    tracing::warn!(
                        hasher,
                        count = tally.count,
                        reason = %error,
                        "stored password values of this hasher are still unusable; logins refused"
                    );
                }
            }
        }
    }
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
            pepper: settings.bcrypt_pepper.clone(),
            permits: Arc::new(Semaphore::new(concurrent)),
            last_real: Mutex::new(StoredHash::dummy(Scheme::Sha512Crypt, 5_000)),
            unusable: UnusableLog::default(),
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
        if !matches!(outcome, Outcome::UnusableHash | Outcome::OverLimit) {
            tracing::debug!(outcome = outcome.label(), "password checked");
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
            tracing::warn!(
                max_password_bytes = self.limits.max_password_bytes,
                "password longer than the configured limit; refused without hashing"
            );
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
            }) => {
                let pepper = self.pepper.as_ref().map(|p| p.expose().as_bytes());
                match StoredHash::parse_with_pepper(&stored, pepper) {
                    Ok(hash) => (Some(hash), Outcome::WrongPassword),
                    Err(error) => {
                        let hasher = claimed_hasher(&stored);
                        self.unusable.record(hasher, &error);
                        if let Some(m) = &self.metrics {
                            m.counter(
                                "userstore_gateway_unusable_hashes_total",
                                &[("hasher", hasher)],
                            )
                            .increment(1);
                        }
                        (None, Outcome::UnusableHash)
                    }
                }
            }
        };
        let Some(hash) = hash else {
            let decoy = self.last_real.lock().map_or_else(
                |_| StoredHash::dummy(Scheme::Sha512Crypt, 5_000),
                |h| h.as_decoy(),
            );
            self.hash_blocking(decoy, password).await;
            return miss;
        };
        let (scheme, cost) = (hash.scheme(), hash.cost_label());
        match self.hash_blocking(hash, password).await {
            (Verdict::PasswordTooLong | Verdict::CostTooHigh, _) => {
                tracing::warn!(
                    scheme = scheme.name(),
                    cost = %cost,
                    "stored hash's cost is over its [hashing] cap; refused without hashing"
                );
                Outcome::OverLimit
            }
            (verdict, real) => {
                // Only hashes that were really computed become the decoy.
                if let (Some(real), Ok(mut last)) = (real, self.last_real.lock()) {
                    *last = real;
                }
                if verdict == Verdict::Match {
                    Outcome::Valid
                } else {
                    miss
                }
            }
        }
    }

    /// Verifies on a blocking thread within `max_concurrent`; hands the hash
    /// back (for the next decoy) unless the thread failed.
    async fn hash_blocking(
        &self,
        hash: StoredHash,
        password: String,
    ) -> (Verdict, Option<StoredHash>) {
        let Ok(_permit) = self.permits.acquire().await else {
            return (Verdict::Mismatch, None);
        };
        let limits = self.limits.clone();
        let (scheme, cost) = (hash.scheme(), hash.cost_label());
        let span = tracing::Span::current();
        let (verdict, hash) = tokio::task::spawn_blocking(move || {
            let verdict = span.in_scope(|| hash.verify(&password, &limits));
            (verdict, Some(hash))
        })
        .instrument(tracing::Span::current())
        .await
        .unwrap_or((Verdict::Mismatch, None));
        // Counted by scheme and cost so that operators (and tests) can see
        // that unknown users cost the same hashing work as known ones.
        if matches!(verdict, Verdict::Match | Verdict::Mismatch) {
            if let Some(m) = &self.metrics {
                let labels = [("scheme", scheme.name()), ("cost", cost.as_str())];
                m.counter("userstore_gateway_hash_computations_total", &labels)
                    .increment(1);
            }
        }
        (verdict, hash)
    }
}
