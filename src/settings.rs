//! Typed configuration: one TOML file plus `USERSTORE_GATEWAY__...` environment overrides.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::password::Limits;

/// Prefix of environment variables that override the file, e.g.
/// `USERSTORE_GATEWAY__DATABASE__URL`.
pub const ENV_PREFIX: &str = "USERSTORE_GATEWAY";

/// A value that must never reach a log line, an error message or a span.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    /// Overrides of the default SQL, keyed by query name (see `store::QueryName`).
    #[serde(default)]
    pub queries: BTreeMap<String, String>,
    #[serde(default)]
    pub hashing: HashingSettings,
    #[serde(default)]
    pub changes: ChangeSettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Upper bound for `max` on searches; larger requests are capped.
    pub max_page_size: u32,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// HTTPS instead of plain HTTP, optionally requiring client certificates.
    pub tls: Option<TlsSettings>,
}

/// `[server.tls]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, server certificate first.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// PEM CA certificates; when set, clients must present a certificate
    /// issued by one of them (mutual TLS).
    pub client_ca_file: Option<PathBuf>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_page_size: 100,
            body_limit_bytes: 16 * 1024,
            tls: None,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://`, `mysql://`, `mariadb://` or `sqlite://`; may hold a password.
    pub url: Secret,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long a request waits for a free connection before it fails.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
    /// Longest a single statement may run before the database cancels it;
    /// 0 leaves the database's own setting.
    #[serde(default = "default_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// The `users` table has an `enabled` column (as `import-clerk` makes it):
    /// the default user queries read it too. Configured queries are unchanged.
    #[serde(default)]
    pub enabled_column: bool,
}

fn default_statement_timeout_ms() -> u64 {
    5_000
}

fn default_max_connections() -> u32 {
    10
}

fn default_acquire_timeout_ms() -> u64 {
    3_000
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Every token listed here is accepted, so a new one can be rolled out
    /// before the old one is removed.
    pub api_tokens: Vec<Secret>,
}

/// `[hashing]`: the per-scheme cost caps (see [`Limits`]), the concurrency of hashing and
/// the pepper of `bcrypt_peppered` hashes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashingSettings {
    /// Highest sha-crypt `rounds=` (and Symfony iteration count) that is still computed.
    pub max_rounds: u32,
    /// Highest bcrypt cost that is still computed.
    pub max_bcrypt_cost: u32,
    /// Highest phpass log2 iteration count.
    pub max_phpass_cost: u32,
    /// Highest PBKDF2 iteration count.
    pub max_pbkdf2_iterations: u32,
    /// Highest argon2 memory in KiB.
    pub max_argon2_memory_kib: u32,
    /// Highest argon2 pass count.
    pub max_argon2_iterations: u32,
    /// Highest argon2 lane count.
    pub max_argon2_parallelism: u32,
    /// Highest scrypt log2 N.
    pub max_scrypt_log_n: u32,
    /// Highest scrypt r.
    pub max_scrypt_r: u32,
    /// Highest scrypt p.
    pub max_scrypt_p: u32,
    /// Longest password (in bytes) that is still hashed.
    pub max_password_bytes: usize,
    /// How many hashes may be computed at once; 0 means one per CPU.
    pub max_concurrent: usize,
    /// The pepper Devise appended before bcrypt, for `{CLERK:bcrypt_peppered}` values that
    /// do not carry their own. A secret like a token: set it from the environment.
    pub bcrypt_pepper: Option<Secret>,
}

impl Default for HashingSettings {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            max_rounds: limits.max_rounds,
            max_bcrypt_cost: limits.max_bcrypt_cost,
            max_phpass_cost: limits.max_phpass_cost,
            max_pbkdf2_iterations: limits.max_pbkdf2_iterations,
            max_argon2_memory_kib: limits.max_argon2_memory_kib,
            max_argon2_iterations: limits.max_argon2_iterations,
            max_argon2_parallelism: limits.max_argon2_parallelism,
            max_scrypt_log_n: limits.max_scrypt_log_n,
            max_scrypt_r: limits.max_scrypt_r,
            max_scrypt_p: limits.max_scrypt_p,
            max_password_bytes: limits.max_password_bytes,
            max_concurrent: 0,
            bcrypt_pepper: None,
        }
    }
}

impl HashingSettings {
    /// The CPU-protection limits handed to the hash verifier.
    pub fn limits(&self) -> Limits {
        Limits {
            max_rounds: self.max_rounds,
            max_bcrypt_cost: self.max_bcrypt_cost,
            max_phpass_cost: self.max_phpass_cost,
            max_pbkdf2_iterations: self.max_pbkdf2_iterations,
            max_argon2_memory_kib: self.max_argon2_memory_kib,
            max_argon2_iterations: self.max_argon2_iterations,
            max_argon2_parallelism: self.max_argon2_parallelism,
            max_scrypt_log_n: self.max_scrypt_log_n,
            max_scrypt_r: self.max_scrypt_r,
            max_scrypt_p: self.max_scrypt_p,
            max_password_bytes: self.max_password_bytes,
        }
    }
}

/// `[changes]`: the change feed (`GET /v1/changes`) that tells Keycloak which
/// cached users to evict.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeSettings {
    /// Serve the feed from the change log of `migrations/<dialect>/0002_change_log.sql`
    /// (or from the `changes` and `change_bounds` queries, which also turn it on).
    pub enabled: bool,
    /// How often the head of the log is read while someone waits on the feed.
    pub poll_interval_ms: u64,
    /// Longest `wait` a long-poll may ask for; larger values are capped.
    pub max_wait_seconds: u64,
    /// Most log entries read per answer.
    pub batch_limit: u32,
    /// PostgreSQL: the channel the triggers `NOTIFY`; empty turns LISTEN off.
    pub notify_channel: String,
}

impl Default for ChangeSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            poll_interval_ms: 1_000,
            max_wait_seconds: 30,
            batch_limit: 1_000,
            notify_channel: "userstore_changes".to_owned(),
        }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads `path` (TOML) and applies environment overrides on top.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        Self::load_with_env(path, None)
    }

    /// Like [`Settings::load`], with the environment given as a map instead
    /// of the process environment (`None`), for tests and tools.
    pub fn load_with_env(
        path: &Path,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, SettingsError> {
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml))
            .add_source(environment().source(env))
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: values that parse but make no sense.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |msg: &str| Err(SettingsError::Invalid(msg.to_owned()));
        if self.auth.api_tokens.is_empty() {
            return invalid("auth.api_tokens must list at least one token");
        }
        if self
            .auth
            .api_tokens
            .iter()
            .any(|t| t.expose().trim().is_empty())
        {
            return invalid("auth.api_tokens must not contain an empty token");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be at least 1");
        }
        if self.server.max_page_size == 0 {
            return invalid("server.max_page_size must be at least 1");
        }
        if !(50..=60_000).contains(&self.changes.poll_interval_ms) {
            return invalid("changes.poll_interval_ms must be between 50 and 60000");
        }
        if self.changes.max_wait_seconds > 300 {
            return invalid("changes.max_wait_seconds must be at most 300");
        }
        if !(10..=100_000).contains(&self.changes.batch_limit) {
            return invalid("changes.batch_limit must be between 10 and 100000");
        }
        Ok(())
    }
}

fn environment() -> config::Environment {
    config::Environment::with_prefix(ENV_PREFIX)
        .prefix_separator("__")
        .separator("__")
        .list_separator(",")
        .with_list_parse_key("auth.api_tokens")
        .try_parsing(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new("hunter2-token");
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }

    #[test]
    fn settings_debug_hides_tokens_and_database_url() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(
            file.path(),
            "[database]\nurl = \"postgres://gw:dbpass-123@localhost/users\"\n[auth]\napi_tokens = [\"tok-abc-123\"]\n",
        )
        .expect("write config");
        let settings = Settings::load(file.path()).expect("valid config");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("dbpass-123"), "{shown}");
        assert!(!shown.contains("tok-abc-123"), "{shown}");
    }

    #[test]
    fn empty_token_list_is_rejected() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(
            file.path(),
            "[database]\nurl = \"sqlite://x.db\"\n[auth]\napi_tokens = []\n",
        )
        .expect("write config");
        let err = Settings::load(file.path()).expect_err("must be rejected");
        assert!(err.to_string().contains("api_tokens"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(
            file.path(),
            "[database]\nurl = \"sqlite://x.db\"\nurll = 1\n[auth]\napi_tokens = [\"t\"]\n",
        )
        .expect("write config");
        assert!(Settings::load(file.path()).is_err());
    }
}
