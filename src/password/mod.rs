//! Verification of passwords against crypt(3) hash strings from the legacy user store.
//!
//! The contract is that a password is accepted exactly when glibc/libxcrypt's
//! `crypt(password, stored) == stored` would hold. Stored strings that libxcrypt could
//! never have produced are rejected by [`CryptHash::parse`] instead of silently never
//! matching, so that bad rows show up as data errors rather than as users who mysteriously
//! cannot log in.

mod crypt;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use sha_crypt::Params;

use self::crypt::*;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `$6$`: SHA-512 based crypt (Drepper).
    Sha512Crypt,
    /// `$5$`: SHA-256 based crypt (Drepper).
    Sha256Crypt,
    /// `$2a$`, `$2b$`, `$2y$`: bcrypt.
    Bcrypt,
    /// `$1$`: MD5 based crypt (Kamp).
    Md5Crypt,
}

impl Scheme {
    /// Stable lower-case name, suitable for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sha512Crypt => "sha512-crypt",
            Scheme::Sha256Crypt => "sha256-crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Md5Crypt => "md5-crypt",
        }
    }
}

/// CPU-protection limits, from configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Highest sha-crypt `rounds=` value that will be computed. md5-crypt counts as its
    /// fixed 1000 rounds, so it is refused too if this is set below 1000.
    pub max_rounds: u32,
    /// Highest bcrypt log2 cost that will be computed.
    pub max_bcrypt_cost: u32,
    /// Longest password, in UTF-8 bytes, that will be hashed; sha-crypt work grows with it.
    pub max_password_bytes: usize,
}

impl Limits {
    /// True when `password` is too long to be hashed at all.
    pub fn password_too_long(&self, password: &str) -> bool {
        password.len() > self.max_password_bytes
    }
}

/// Defaults sized so that one verification stays well under a second of CPU.
impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rounds: 1_000_000,
            max_bcrypt_cost: 14,
            max_password_bytes: 256,
        }
    }
}

/// Outcome of [`CryptHash::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// crypt(3) would reproduce the stored hash from this password.
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
    /// A recognisable scheme that this service does not verify (DES, yescrypt, `{SSHA}`, ...).
    #[error("unsupported password hash scheme: {0}")]
    Unsupported(&'static str),
    /// Text that crypt(3) could never have produced, so no password can match it.
    #[error("malformed password hash: {0}")]
    Malformed(&'static str),
}

/// A parsed crypt(3) hash string ("parse, don't validate").
#[derive(Clone)]
pub struct CryptHash {
    kind: Kind,
    /// Set for [`CryptHash::dummy`]: all the work is done, but the answer is never `Match`.
    decoy: bool,
}

#[derive(Clone)]
enum Kind {
    Sha512(ShaFields),
    Sha256(ShaFields),
    Md5 {
        salt: Box<[u8]>,
        digest: Box<[u8]>,
    },
    /// The bcrypt crate parses its own format, so the validated text is kept whole.
    Bcrypt {
        cost: u32,
        text: Box<str>,
    },
}

/// The parts of a `$6$` / `$5$` hash; salt and digest as stored (crypt(3) text).
#[derive(Clone)]
struct ShaFields {
    rounds: u32,
    salt: Box<[u8]>,
    digest: Box<[u8]>,
}

impl Kind {
    fn scheme(&self) -> Scheme {
        match self {
            Kind::Sha512(_) => Scheme::Sha512Crypt,
            Kind::Sha256(_) => Scheme::Sha256Crypt,
            Kind::Md5 { .. } => Scheme::Md5Crypt,
            Kind::Bcrypt { .. } => Scheme::Bcrypt,
        }
    }
}

impl fmt::Debug for CryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Salt and digest stay out of Debug so that logging a hash cannot leak them.
        f.debug_struct("CryptHash")
            .field("scheme", &self.scheme())
            .field("cost", &self.cost())
            .finish()
    }
}

impl CryptHash {
    /// Parses a stored hash, optionally carrying a Dovecot/OpenLDAP `{SCHEME}` prefix.
    ///
    /// Anything libxcrypt would never output is [`HashError::Malformed`]; recognisable but
    /// unsupported schemes are [`HashError::Unsupported`]. No input makes this panic.
    pub fn parse(stored: &str) -> Result<Self, HashError> {
        let (required, body) = split_scheme_prefix(stored)?;
        let kind = match (required, parse_body(body)) {
            (None, parsed) => parsed?,
            (Some(wanted), Ok(kind)) if kind.scheme() == wanted => kind,
            (Some(_), Err(HashError::Malformed(why))) => return Err(HashError::Malformed(why)),
            (Some(_), _) => {
                return Err(HashError::Malformed(
                    "the {scheme} prefix names a different scheme than the hash uses",
                ))
            }
        };
        Ok(Self { kind, decoy: false })
    }

    /// The hash's scheme.
    pub fn scheme(&self) -> Scheme {
        self.kind.scheme()
    }

    /// sha-crypt rounds (5000 when the hash has no rounds=), bcrypt log2 cost, 1000 for md5-crypt.
    pub fn cost(&self) -> u32 {
        match &self.kind {
            Kind::Sha512(fields) | Kind::Sha256(fields) => fields.rounds,
            Kind::Md5 { .. } => MD5_ROUNDS,
            Kind::Bcrypt { cost, .. } => *cost,
        }
    }

    /// Checks limits first (password longer than max_password_bytes -> PasswordTooLong;
    /// rounds > max_rounds or bcrypt cost > max_bcrypt_cost -> CostTooHigh, without hashing),
    /// then hashes and compares in constant time.
    ///
    /// A password containing a NUL character is always a `Mismatch` (after doing the same
    /// work): C callers of crypt(3) cannot pass such a password at all, and cutting it at the
    /// NUL as C would would let `"secret\0anything"` log in as `"secret"`.
    #[must_use]
    pub fn verify(&self, password: &str, limits: &Limits) -> Verdict {
        if limits.password_too_long(password) {
            return Verdict::PasswordTooLong;
        }
        let too_costly = match self.kind {
            Kind::Bcrypt { cost, .. } => cost > limits.max_bcrypt_cost,
            _ => self.cost() > limits.max_rounds,
        };
        if too_costly {
            return Verdict::CostTooHigh;
        }

        let bytes = password.as_bytes();
        let digest_equal = self.digest_matches(bytes);
        let representable_in_c = !bytes.contains(&0);
        if digest_equal && representable_in_c && !self.decoy {
            Verdict::Match
        } else {
            Verdict::Mismatch
        }
    }

    /// A hash of the given scheme and cost with a fixed salt whose digest can never match:
    /// verifying it costs the same work as a real hash (used for unknown users so timing does
    /// not reveal whether a user exists).
    ///
    /// Costs the scheme cannot express are clamped into its valid range (sha-crypt
    /// 1000..=999999999, bcrypt 4..=31); md5-crypt ignores `cost`. The decoy honours
    /// [`Limits`] like any real hash, so a refused cost is refused for unknown users too.
    pub fn dummy(scheme: Scheme, cost: u32) -> Self {
        let kind = match scheme {
            Scheme::Sha512Crypt => Kind::Sha512(ShaFields {
                rounds: cost.clamp(SHA_MIN_ROUNDS, SHA_MAX_ROUNDS),
                salt: DECOY_SALT.as_slice().into(),
                digest: vec![CRYPT_ALPHABET[0]; SHA512_DIGEST_CHARS].into(),
            }),
            Scheme::Sha256Crypt => Kind::Sha256(ShaFields {
                rounds: cost.clamp(SHA_MIN_ROUNDS, SHA_MAX_ROUNDS),
                salt: DECOY_SALT.as_slice().into(),
                digest: vec![CRYPT_ALPHABET[0]; SHA256_DIGEST_CHARS].into(),
            }),
            Scheme::Md5Crypt => Kind::Md5 {
                salt: DECOY_SALT[..MD5_MAX_SALT].into(),
                digest: vec![CRYPT_ALPHABET[0]; MD5_DIGEST_CHARS].into(),
            },
            Scheme::Bcrypt => {
                let cost = cost.clamp(BCRYPT_MIN_COST, BCRYPT_MAX_COST);
                let digest = ".".repeat(31);
                Kind::Bcrypt {
                    cost,
                    text: format!("$2b${cost:02}${DECOY_BCRYPT_SALT}{digest}").into(),
                }
            }
        };
        Self { kind, decoy: true }
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
            // The crate truncates at 72 bytes exactly as libxcrypt does. $2a$, $2b$ and $2y$
            // only differ in libxcrypt for passwords containing byte 0xFF, which valid UTF-8
            // never does, so the crate's single algorithm is right for all three.
            Kind::Bcrypt { text, .. } => bcrypt::verify(password, text).unwrap_or(false),
        }
    }
}

/// A new `$6$` hash with a random 16-character salt and the default 5000 rounds (for the
/// `hash` CLI subcommand).
///
/// The salt is drawn directly from the crypt alphabet rather than via
/// `sha_crypt::ShaCrypt::hash_password`, whose 22-character salts glibc would cut to 16 and
/// then fail to reproduce. A password containing NUL yields a hash that never verifies.
///
/// # Panics
/// If the operating system's random number generator fails, since no safe salt exists then.
#[must_use]
pub fn hash_sha512(password: &str) -> String {
    let random = match sha_crypt::password_hash::try_generate_salt() {
        Ok(bytes) => bytes,
        Err(err) => panic!("the operating system random number generator failed: {err}"),
    };
    // 256 is a multiple of 64, so masking keeps every salt character equally likely.
    let salt: Vec<u8> = random
        .iter()
        .take(SHA_MAX_SALT)
        .map(|byte| CRYPT_ALPHABET[usize::from(byte & 0x3f)])
        .collect();
    let digest = sha512_digest_text(password.as_bytes(), &salt, Params::RECOMMENDED);

    let mut out = String::with_capacity(4 + salt.len() + digest.len());
    out.push_str("$6$");
    out.extend(salt.iter().map(|&b| char::from(b)));
    out.push('$');
    out.extend(digest.iter().map(|&b| char::from(b)));
    out
}
