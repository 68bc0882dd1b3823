//! Verification of stored password hashes from the legacy user store.
//!
//! Two families of stored values are read:
//!
//! - crypt(3) strings (`$6$`, `$5$`, `$1$`, bcrypt). A password is accepted exactly when
//!   glibc/libxcrypt's `crypt(password, stored) == stored` would hold; text libxcrypt could
//!   never have produced is refused by [`StoredHash::parse`] instead of silently never
//!   matching, so bad rows show up as data errors rather than as users who cannot log in.
//! - The hashers other systems export (every `password_hasher` Clerk documents, PHC argon2,
//!   phpass, RFC 2307 `{SSHA}`). A value must name its hasher: either it carries its own
//!   registered identifier (`$argon2id$`, `$P$`, `{SSHA}`) or it is written
//!   `{CLERK:<hasher>}<digest>`. Nothing is guessed from a digest's shape. See
//!   `docs/queries.md` for every form.

mod bcrypts;
mod clerk;
mod codec;
mod crypt;
mod digests;
#[cfg(test)]
mod kat;
mod kdf;
mod make;
mod parse;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::fmt;

use sha_crypt::Params;

pub use self::make::{hash_sha512, make_hash, MakeError};

use self::bcrypts::*;
use self::crypt::*;
use self::digests::*;
use self::kdf::*;
use self::parse::*;
/// Order of the crypt(3) base64 alphabet used by md5-crypt and sha-crypt.
const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// bcrypt uses the same 64 characters as crypt(3) but in a different order.
const BCRYPT_ALPHABET: &[u8; 64] =
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const SHA_DEFAULT_ROUNDS: u32 = 5_000;
const SHA_MIN_ROUNDS: u32 = 1_000;
const SHA_MAX_ROUNDS: u32 = 999_999_999;
const SHA_MAX_SALT: usize = 16;
const SHA512_DIGEST_CHARS: usize = 86;
const SHA256_DIGEST_CHARS: usize = 43;
const MD5_ROUNDS: u32 = 1_000;
const MD5_MAX_SALT: usize = 8;
const MD5_DIGEST_CHARS: usize = 22;
const BCRYPT_MIN_COST: u32 = 4;
const BCRYPT_MAX_COST: u32 = 31;
const BCRYPT_HASH_CHARS: usize = 60;

/// The final character of an encoded digest carries fewer than six bits; these masks
/// select the bits libxcrypt always leaves zero there. A stored hash with any of them set
/// is not something crypt(3) outputs, so it can never compare equal.
const SHA512_UNUSED_TAIL_BITS: u8 = 0b11_1100;
const SHA256_UNUSED_TAIL_BITS: u8 = 0b11_0000;
const MD5_UNUSED_TAIL_BITS: u8 = 0b11_1100;
/// bcrypt's encoding fills each character from the most significant bit downwards.
const BCRYPT_SALT_UNUSED_TAIL_BITS: u8 = 0b00_1111;
const BCRYPT_DIGEST_UNUSED_TAIL_BITS: u8 = 0b00_0011;

/// Byte triples in the order glibc feeds the SHA-512 result to its base64 encoder; the
/// last byte (63) is encoded on its own.
const SHA512_GROUPS: [(usize, usize, usize); 21] = [
    (0, 21, 42),
    (22, 43, 1),
    (44, 2, 23),
    (3, 24, 45),
    (25, 46, 4),
    (47, 5, 26),
    (6, 27, 48),
    (28, 49, 7),
    (50, 8, 29),
    (9, 30, 51),
    (31, 52, 10),
    (53, 11, 32),
    (12, 33, 54),
    (34, 55, 13),
    (56, 14, 35),
    (15, 36, 57),
    (37, 58, 16),
    (59, 17, 38),
    (18, 39, 60),
    (40, 61, 19),
    (62, 20, 41),
];

/// Same as [`SHA512_GROUPS`] for SHA-256; bytes 31 and 30 form the short final group.
const SHA256_GROUPS: [(usize, usize, usize); 10] = [
    (0, 10, 20),
    (21, 1, 11),
    (12, 22, 2),
    (3, 13, 23),
    (24, 4, 14),
    (15, 25, 5),
    (6, 16, 26),
    (27, 7, 17),
    (18, 28, 8),
    (9, 19, 29),
];

/// Same as [`SHA512_GROUPS`] for md5-crypt; byte 11 is encoded on its own.
const MD5_GROUPS: [(usize, usize, usize); 5] =
    [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)];

/// Decoy salts are as long as the longest real salts so a decoy costs no less than them.
const DECOY_SALT: &[u8; SHA_MAX_SALT] = b"userstoreGateway";
const DECOY_BCRYPT_SALT: &str = "userstoreGatewayDecoy.";

/// The password hashing schemes this service can verify.
///
/// The names of the schemes beyond crypt(3) are Clerk's `password_hasher` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `$6$`: SHA-512 based crypt (Drepper).
    Sha512Crypt,
    /// `$5$`: SHA-256 based crypt (Drepper).
    Sha256Crypt,
    /// `$1$`: MD5 based crypt (Kamp).
    Md5Crypt,
    /// `$2a$`, `$2b$`, `$2x$`, `$2y$`: bcrypt.
    Bcrypt,
    /// Django's `bcrypt_sha256$`: bcrypt of the hex SHA-256 of the password.
    BcryptSha256Django,
    /// bcrypt of the password followed by a pepper (Devise).
    BcryptPeppered,
    /// PHC `$argon2i$`.
    Argon2i,
    /// PHC `$argon2id$`.
    Argon2id,
    /// PBKDF2-HMAC-SHA1, hex hash (Clerk's form).
    Pbkdf2Sha1,
    /// PBKDF2-HMAC-SHA256, base64 salt and hash (Clerk's form).
    Pbkdf2Sha256,
    /// PBKDF2-HMAC-SHA256, salt as text, base64 hash (Django's form).
    Pbkdf2Sha256Django,
    /// PBKDF2-HMAC-SHA512, salt as text, hex hash.
    Pbkdf2Sha512,
    /// PBKDF2-HMAC-SHA512, hex salt and hex hash.
    Pbkdf2Sha512Hex,
    /// phpass portable hashes, `$P$` (WordPress) and `$H$` (phpBB).
    Phpass,
    /// Firebase's scrypt: scrypt, then AES-256-CTR over the project's signer key.
    ScryptFirebase,
    /// Werkzeug's `scrypt:N:r:p$salt$hex`.
    ScryptWerkzeug,
    /// RFC 2307 `{SHA}`: unsalted SHA-1.
    LdapSha,
    /// RFC 2307 style `{SSHA}`: SHA-1 of password and salt.
    LdapSsha,
    /// `{SSHA256}`.
    LdapSsha256,
    /// `{SSHA512}`.
    LdapSsha512,
    /// Symfony's legacy MessageDigestPasswordEncoder with SHA-512.
    Sha512Symfony,
    /// Unsalted MD5, hex.
    Md5,
    /// MD5 of password followed by salt, hex.
    Md5Salted,
    /// Unsalted SHA-256, hex.
    Sha256,
    /// SHA-256 of password followed by salt, hex.
    Sha256Salted,
}

impl Scheme {
    /// Every scheme, in the order of the documentation.
    pub const ALL: [Scheme; 25] = [
        Scheme::Sha512Crypt,
        Scheme::Sha256Crypt,
        Scheme::Md5Crypt,
        Scheme::Bcrypt,
        Scheme::BcryptSha256Django,
        Scheme::BcryptPeppered,
        Scheme::Argon2i,
        Scheme::Argon2id,
        Scheme::Pbkdf2Sha1,
        Scheme::Pbkdf2Sha256,
        Scheme::Pbkdf2Sha256Django,
        Scheme::Pbkdf2Sha512,
        Scheme::Pbkdf2Sha512Hex,
        Scheme::Phpass,
        Scheme::ScryptFirebase,
        Scheme::ScryptWerkzeug,
        Scheme::LdapSha,
        Scheme::LdapSsha,
        Scheme::LdapSsha256,
        Scheme::LdapSsha512,
        Scheme::Sha512Symfony,
        Scheme::Md5,
        Scheme::Md5Salted,
        Scheme::Sha256,
        Scheme::Sha256Salted,
    ];

    /// Stable lower-case name, suitable for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sha512Crypt => "sha512-crypt",
            Scheme::Sha256Crypt => "sha256-crypt",
            Scheme::Md5Crypt => "md5-crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::BcryptSha256Django => "bcrypt_sha256_django",
            Scheme::BcryptPeppered => "bcrypt_peppered",
            Scheme::Argon2i => "argon2i",
            Scheme::Argon2id => "argon2id",
            Scheme::Pbkdf2Sha1 => "pbkdf2_sha1",
            Scheme::Pbkdf2Sha256 => "pbkdf2_sha256",
            Scheme::Pbkdf2Sha256Django => "pbkdf2_sha256_django",
            Scheme::Pbkdf2Sha512 => "pbkdf2_sha512",
            Scheme::Pbkdf2Sha512Hex => "pbkdf2_sha512_hex",
            Scheme::Phpass => "phpass",
            Scheme::ScryptFirebase => "scrypt_firebase",
            Scheme::ScryptWerkzeug => "scrypt_werkzeug",
            Scheme::LdapSha => "ldap_sha",
            Scheme::LdapSsha => "ldap_ssha",
            Scheme::LdapSsha256 => "ldap_ssha256",
            Scheme::LdapSsha512 => "ldap_ssha512",
            Scheme::Sha512Symfony => "sha512_symfony",
            Scheme::Md5 => "md5",
            Scheme::Md5Salted => "md5_salted",
            Scheme::Sha256 => "sha256",
            Scheme::Sha256Salted => "sha256_salted",
        }
    }

    /// The scheme a name stands for: [`Scheme::name`], or Clerk's alias `md5_phpass`.
    pub fn from_name(name: &str) -> Option<Scheme> {
        if name.eq_ignore_ascii_case("md5_phpass") {
            return Some(Scheme::Phpass);
        }
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// CPU-protection limits, from configuration (`[hashing]`).
///
/// A stored hash whose cost is above its scheme's cap is refused before any work is done.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Highest sha-crypt `rounds=` value that will be computed, and highest iteration count
    /// of Symfony's digest loop. md5-crypt counts as its fixed 1000 rounds, so it is refused
    /// too if this is set below 1000.
    pub max_rounds: u32,
    /// Highest bcrypt log2 cost that will be computed (all bcrypt schemes).
    pub max_bcrypt_cost: u32,
    /// Highest phpass log2 iteration count.
    pub max_phpass_cost: u32,
    /// Highest PBKDF2 iteration count (every PBKDF2 scheme).
    pub max_pbkdf2_iterations: u32,
    /// Highest argon2 memory, in KiB (`m=`).
    pub max_argon2_memory_kib: u32,
    /// Highest argon2 pass count (`t=`).
    pub max_argon2_iterations: u32,
    /// Highest argon2 lane count (`p=`).
    pub max_argon2_parallelism: u32,
    /// Highest scrypt log2 N (Firebase's memory cost; werkzeug's N as a power of two).
    pub max_scrypt_log_n: u32,
    /// Highest scrypt block size r (Firebase's rounds).
    pub max_scrypt_r: u32,
    /// Highest scrypt parallelism p.
    pub max_scrypt_p: u32,
    /// Longest password, in UTF-8 bytes, that will be hashed; sha-crypt work grows with it.
    pub max_password_bytes: usize,
}

impl Limits {
    /// True when `password` is too long to be hashed at all.
    pub fn password_too_long(&self, password: &str) -> bool {
        password.len() > self.max_password_bytes
    }
}

/// Defaults sized so that one verification stays well under a second of CPU and 256 MiB of
/// memory, while the common costs of every scheme (Django's 1,000,000 PBKDF2 iterations,
/// argon2-cffi's 64 MiB, werkzeug's N=32768) pass.
impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rounds: 1_000_000,
            max_bcrypt_cost: 14,
            max_phpass_cost: 18,
            max_pbkdf2_iterations: 2_000_000,
            max_argon2_memory_kib: 262_144,
            max_argon2_iterations: 10,
            max_argon2_parallelism: 16,
            max_scrypt_log_n: 17,
            max_scrypt_r: 16,
            max_scrypt_p: 4,
            max_password_bytes: 256,
        }
    }
}

/// Outcome of [`StoredHash::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password reproduces the stored hash.
    Match,
    /// The password is wrong (or the hash is a decoy).
    Mismatch,
    /// Refused before hashing: the password exceeds [`Limits::max_password_bytes`].
    PasswordTooLong,
    /// Refused before hashing: the hash's cost exceeds the configured limits.
    CostTooHigh,
}

/// Why a stored string is not a usable hash.
///
/// The messages are fixed texts: they never echo the stored string, because error messages
/// end up in logs and a salt or digest must not.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    /// A recognisable scheme that this service does not verify (DES, yescrypt, an unknown
    /// `{CLERK:...}` hasher, `awscognito`, ...).
    #[error("unsupported password hash scheme: {0}")]
    Unsupported(&'static str),
    /// Text that its scheme could never have produced, so no password can match it.
    #[error("malformed password hash: {0}")]
    Malformed(&'static str),
}

/// A parsed stored hash ("parse, don't validate").
#[derive(Clone)]
pub struct StoredHash {
    scheme: Scheme,
    kind: Kind,
    /// Set for decoys: all the work is done, but the answer is never `Match`.
    decoy: bool,
}

#[derive(Clone)]
enum Kind {
    Sha512(ShaFields),
    Sha256(ShaFields),
    Md5 { salt: Box<[u8]>, digest: Box<[u8]> },
    Bcrypt(BcryptFields),
    Argon2(Argon2Fields),
    Pbkdf2(Pbkdf2Fields),
    Phpass(PhpassFields),
    Scrypt(ScryptFields),
    Digest(DigestFields),
    Symfony(SymfonyFields),
}

/// The parts of a `$6$` / `$5$` hash; salt and digest as stored (crypt(3) text).
#[derive(Clone)]
struct ShaFields {
    rounds: u32,
    salt: Box<[u8]>,
    digest: Box<[u8]>,
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Salt, digest and pepper stay out of Debug so that logging a hash cannot leak them.
        f.debug_struct("StoredHash")
            .field("scheme", &self.scheme)
            .field("cost", &self.cost_label())
            .finish()
    }
}

impl StoredHash {
    /// Parses a stored value when no bcrypt pepper is configured; see
    /// [`StoredHash::parse_with_pepper`].
    pub fn parse(stored: &str) -> Result<Self, HashError> {
        Self::parse_with_pepper(stored, None)
    }

    /// Parses a stored value: a crypt(3) string (optionally behind a Dovecot/OpenLDAP
    /// `{SCHEME}` prefix), a value carrying its own identifier (`$argon2id$`, `$P$`, `{SSHA}`),
    /// or `{CLERK:<hasher>}<digest>`. `pepper` is `[hashing] bcrypt_pepper`, used by
    /// `bcrypt_peppered` digests that do not carry their own.
    ///
    /// Anything the scheme would never output is [`HashError::Malformed`]; recognisable but
    /// unverifiable schemes are [`HashError::Unsupported`]. No input makes this panic.
    pub fn parse_with_pepper(stored: &str, pepper: Option<&[u8]>) -> Result<Self, HashError> {
        let (scheme, kind) = match clerk::split_label(stored)? {
            Some((hasher, digest)) => clerk::parse(hasher, digest, pepper)?,
            None => parse_self_named(stored)?,
        };
        Ok(Self {
            scheme,
            kind,
            decoy: false,
        })
    }

    /// The hash's scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The main work factor: sha-crypt rounds (5000 without rounds=), bcrypt and phpass log2
    /// cost, 1000 for md5-crypt, PBKDF2 and Symfony iterations, argon2 memory in KiB, scrypt
    /// log2 N, 1 for the plain digests.
    pub fn cost(&self) -> u32 {
        match &self.kind {
            Kind::Sha512(fields) | Kind::Sha256(fields) => fields.rounds,
            Kind::Md5 { .. } => MD5_ROUNDS,
            Kind::Bcrypt(fields) => fields.cost,
            Kind::Argon2(fields) => fields.memory_kib,
            Kind::Pbkdf2(fields) => fields.iterations,
            Kind::Phpass(fields) => fields.log2_count,
            Kind::Scrypt(fields) => u32::from(fields.log_n),
            Kind::Digest(_) => 1,
            Kind::Symfony(fields) => fields.iterations,
        }
    }

    /// Every cost parameter as text, e.g. `m=65536,t=3,p=4`: a metric label and a log field.
    pub fn cost_label(&self) -> String {
        match &self.kind {
            Kind::Argon2(f) => format!("m={},t={},p={}", f.memory_kib, f.iterations, f.lanes),
            Kind::Scrypt(f) => format!("ln={},r={},p={}", f.log_n, f.r, f.p),
            _ => self.cost().to_string(),
        }
    }

    fn over_limit(&self, limits: &Limits) -> bool {
        match &self.kind {
            Kind::Sha512(_) | Kind::Sha256(_) | Kind::Md5 { .. } | Kind::Symfony(_) => {
                self.cost() > limits.max_rounds
            }
            Kind::Bcrypt(f) => f.cost > limits.max_bcrypt_cost,
            Kind::Phpass(f) => f.log2_count > limits.max_phpass_cost,
            Kind::Pbkdf2(f) => f.iterations > limits.max_pbkdf2_iterations,
            Kind::Argon2(f) => {
                f.memory_kib > limits.max_argon2_memory_kib
                    || f.iterations > limits.max_argon2_iterations
                    || f.lanes > limits.max_argon2_parallelism
            }
            Kind::Scrypt(f) => {
                u32::from(f.log_n) > limits.max_scrypt_log_n
                    || f.r > limits.max_scrypt_r
                    || f.p > limits.max_scrypt_p
            }
            Kind::Digest(_) => false,
        }
    }

    /// Checks limits first (password longer than max_password_bytes -> PasswordTooLong; a
    /// cost over its scheme's cap -> CostTooHigh, without hashing), then hashes and compares
    /// in constant time.
    ///
    /// For the crypt(3) schemes and bcrypt, a password containing a NUL character is always a
    /// `Mismatch` (after doing the same work): C callers cannot pass such a password at all,
    /// and cutting it at the NUL as C would would let `"secret\0anything"` log in as
    /// `"secret"`. The other schemes hash every byte, as their reference implementations do.
    #[must_use]
    pub fn verify(&self, password: &str, limits: &Limits) -> Verdict {
        self.verify_bytes(password.as_bytes(), limits)
    }

    /// [`StoredHash::verify`] for a password that is not necessarily UTF-8 (test vectors of
    /// 8-bit passwords); the API only ever passes UTF-8.
    #[must_use]
    pub fn verify_bytes(&self, password: &[u8], limits: &Limits) -> Verdict {
        if password.len() > limits.max_password_bytes {
            return Verdict::PasswordTooLong;
        }
        if self.over_limit(limits) {
            return Verdict::CostTooHigh;
        }
        let digest_equal = self.digest_matches(password);
        let representable = !self.c_strings_only() || !password.contains(&0);
        if digest_equal && representable && !self.decoy {
            Verdict::Match
        } else {
            Verdict::Mismatch
        }
    }

    /// The same scheme, cost and parameters, but never a `Match`: verifying it costs what
    /// verifying this hash costs (used for unknown users, so that timing does not tell
    /// whether a user exists).
    pub fn as_decoy(&self) -> Self {
        Self {
            decoy: true,
            ..self.clone()
        }
    }

    /// A crypt(3) hash of the given scheme and cost with a fixed salt whose digest can never
    /// match (the decoy before any real hash has been seen).
    ///
    /// Costs the scheme cannot express are clamped into its valid range (sha-crypt
    /// 1000..=999999999, bcrypt 4..=31); md5-crypt ignores `cost`. Schemes beyond crypt(3)
    /// get a `$6$` decoy of 5000 rounds: their decoys are made from real hashes with
    /// [`StoredHash::as_decoy`]. A decoy honours [`Limits`] like any real hash.
    pub fn dummy(scheme: Scheme, cost: u32) -> Self {
        let (scheme, kind) = match scheme {
            Scheme::Sha256Crypt => (
                scheme,
                Kind::Sha256(ShaFields {
                    rounds: cost.clamp(SHA_MIN_ROUNDS, SHA_MAX_ROUNDS),
                    salt: DECOY_SALT.as_slice().into(),
                    digest: vec![CRYPT_ALPHABET[0]; SHA256_DIGEST_CHARS].into(),
                }),
            ),
            Scheme::Md5Crypt => (
                scheme,
                Kind::Md5 {
                    salt: DECOY_SALT[..MD5_MAX_SALT].into(),
                    digest: vec![CRYPT_ALPHABET[0]; MD5_DIGEST_CHARS].into(),
                },
            ),
            Scheme::Bcrypt => (scheme, Kind::Bcrypt(BcryptFields::decoy(cost))),
            Scheme::Sha512Crypt => (scheme, sha512_decoy(cost)),
            _ => (Scheme::Sha512Crypt, sha512_decoy(SHA_DEFAULT_ROUNDS)),
        };
        Self {
            scheme,
            kind,
            decoy: true,
        }
    }

    fn c_strings_only(&self) -> bool {
        match &self.kind {
            Kind::Sha512(_) | Kind::Sha256(_) | Kind::Md5 { .. } => true,
            Kind::Bcrypt(fields) => fields.c_string_input(),
            _ => false,
        }
    }

    fn digest_matches(&self, password: &[u8]) -> bool {
        match &self.kind {
            Kind::Sha512(f) => Params::new(f.rounds).is_ok_and(|params| {
                constant_time_equal(&sha512_digest_text(password, &f.salt, params), &f.digest)
            }),
            Kind::Sha256(f) => Params::new(f.rounds).is_ok_and(|params| {
                constant_time_equal(&sha256_digest_text(password, &f.salt, params), &f.digest)
            }),
            Kind::Md5 { salt, digest } => {
                constant_time_equal(&md5_digest_text(password, salt), digest)
            }
            Kind::Bcrypt(fields) => fields.matches(password),
            Kind::Argon2(fields) => fields.matches(password),
            Kind::Pbkdf2(fields) => fields.matches(password),
            Kind::Phpass(fields) => fields.matches(password),
            Kind::Scrypt(fields) => fields.matches(password),
            Kind::Digest(fields) => fields.matches(password),
            Kind::Symfony(fields) => fields.matches(password),
        }
    }
}

fn sha512_decoy(rounds: u32) -> Kind {
    Kind::Sha512(ShaFields {
        rounds: rounds.clamp(SHA_MIN_ROUNDS, SHA_MAX_ROUNDS),
        salt: DECOY_SALT.as_slice().into(),
        digest: vec![CRYPT_ALPHABET[0]; SHA512_DIGEST_CHARS].into(),
    })
}

/// Whether a stored value is a usable password: it parses (no hashing is done). A
/// `bcrypt_peppered` value without its own pepper is usable when one is configured.
pub fn usable(stored: &str, pepper_configured: bool) -> bool {
    let stand_in = pepper_configured.then_some(b"configured".as_slice());
    StoredHash::parse_with_pepper(stored, stand_in).is_ok()
}

/// The hasher a stored value claims, for counting unusable values in logs and metrics:
/// a [`Scheme::name`], `awscognito`, `unknown` (a `{CLERK:...}` label naming no hasher we
/// know) or `unrecognised` (no hasher named at all). Never any part of the digest.
pub fn claimed_hasher(stored: &str) -> &'static str {
    if let Ok(Some((hasher, _))) = clerk::split_label(stored) {
        if hasher.eq_ignore_ascii_case("awscognito") {
            return "awscognito";
        }
        return Scheme::from_name(hasher).map_or("unknown", Scheme::name);
    }
    self_named_scheme(stored).map_or("unrecognised", Scheme::name)
}
