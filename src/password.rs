//! Verification of passwords against crypt(3) hash strings from the legacy user store.
//!
//! The contract is that a password is accepted exactly when glibc/libxcrypt's
//! `crypt(password, stored) == stored` would hold. Stored strings that libxcrypt could
//! never have produced are rejected by [`CryptHash::parse`] instead of silently never
//! matching, so that bad rows show up as data errors rather than as users who mysteriously
//! cannot log in.

use std::fmt;

use md5::{Digest, Md5};
use sha_crypt::{sha256_crypt, sha512_crypt, Params};
use subtle::ConstantTimeEq;

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
        if password.len() > limits.max_password_bytes {
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

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// Returns the scheme demanded by a `{...}` prefix (`None` for no prefix or `{CRYPT}`) and
/// the text after it.
fn split_scheme_prefix(stored: &str) -> Result<(Option<Scheme>, &str), HashError> {
    let Some(after_brace) = stored.strip_prefix('{') else {
        return Ok((None, stored));
    };
    let Some((label, body)) = after_brace.split_once('}') else {
        return Err(HashError::Malformed("unterminated {scheme} prefix"));
    };
    const LABELS: [(&str, Option<Scheme>); 5] = [
        ("CRYPT", None),
        ("SHA512-CRYPT", Some(Scheme::Sha512Crypt)),
        ("SHA256-CRYPT", Some(Scheme::Sha256Crypt)),
        ("MD5-CRYPT", Some(Scheme::Md5Crypt)),
        ("BLF-CRYPT", Some(Scheme::Bcrypt)),
    ];
    LABELS
        .iter()
        .find(|(name, _)| label.eq_ignore_ascii_case(name))
        .map(|&(_, scheme)| (scheme, body))
        .ok_or(HashError::Unsupported(
            "{scheme} prefix is not a crypt(3) scheme",
        ))
}

fn parse_body(body: &str) -> Result<Kind, HashError> {
    if let Some(rest) = body.strip_prefix("$6$") {
        return parse_sha_fields(rest, SHA512_DIGEST_CHARS, SHA512_UNUSED_TAIL_BITS)
            .map(Kind::Sha512);
    }
    if let Some(rest) = body.strip_prefix("$5$") {
        return parse_sha_fields(rest, SHA256_DIGEST_CHARS, SHA256_UNUSED_TAIL_BITS)
            .map(Kind::Sha256);
    }
    if let Some(rest) = body.strip_prefix("$1$") {
        return parse_md5(rest);
    }
    // $2x$ is deliberately absent: it reproduces an old sign-extension bug that the bcrypt
    // crate does not implement, so non-ASCII passwords would get a different answer.
    if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| body.starts_with(prefix))
    {
        return parse_bcrypt(body);
    }
    Err(classify_unrecognised(body))
}

/// Parses what follows `$6$` / `$5$`: `[rounds=N$]salt$digest`.
fn parse_sha_fields(
    rest: &str,
    digest_chars: usize,
    unused_tail_bits: u8,
) -> Result<ShaFields, HashError> {
    // libxcrypt treats any salt starting with "rounds=" as a rounds field, so an invalid
    // number there is an error rather than part of the salt.
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(after) => {
            let (number, after) = after
                .split_once('$')
                .ok_or(HashError::Malformed("rounds= is not followed by a salt"))?;
            (parse_rounds(number)?, after)
        }
        None => (SHA_DEFAULT_ROUNDS, rest),
    };
    let (salt, digest) = rest
        .split_once('$')
        .ok_or(HashError::Malformed("missing '$' between salt and digest"))?;
    check_salt(salt.as_bytes(), SHA_MAX_SALT)?;
    check_base64(
        digest.as_bytes(),
        digest_chars,
        CRYPT_ALPHABET,
        unused_tail_bits,
        Field::Digest,
    )?;
    Ok(ShaFields {
        rounds,
        salt: salt.as_bytes().into(),
        digest: digest.as_bytes().into(),
    })
}

/// libxcrypt only accepts what it would print itself: plain decimal, no sign or leading
/// zero, within 1000..=999999999 (glibc clamps instead, printing a different number).
fn parse_rounds(number: &str) -> Result<u32, HashError> {
    let digits = number.as_bytes();
    let plain_decimal = digits.first().is_some_and(|d| (b'1'..=b'9').contains(d))
        && digits.iter().all(u8::is_ascii_digit);
    if !plain_decimal {
        return Err(HashError::Malformed(
            "rounds= is not a decimal number without leading zeros",
        ));
    }
    // Ten or more digits cannot fit the range (and might not fit a u32).
    let rounds = if digits.len() > 9 {
        None
    } else {
        number.parse::<u32>().ok()
    };
    match rounds {
        Some(r) if (SHA_MIN_ROUNDS..=SHA_MAX_ROUNDS).contains(&r) => Ok(r),
        _ => Err(HashError::Malformed("rounds= is outside 1000..=999999999")),
    }
}

fn parse_md5(rest: &str) -> Result<Kind, HashError> {
    let (salt, digest) = rest
        .split_once('$')
        .ok_or(HashError::Malformed("missing '$' between salt and digest"))?;
    check_salt(salt.as_bytes(), MD5_MAX_SALT)?;
    check_base64(
        digest.as_bytes(),
        MD5_DIGEST_CHARS,
        CRYPT_ALPHABET,
        MD5_UNUSED_TAIL_BITS,
        Field::Digest,
    )?;
    Ok(Kind::Md5 {
        salt: salt.as_bytes().into(),
        digest: digest.as_bytes().into(),
    })
}

/// `$2?$NN$` + 22 salt characters + 31 digest characters.
fn parse_bcrypt(body: &str) -> Result<Kind, HashError> {
    let bytes = body.as_bytes();
    if bytes.len() != BCRYPT_HASH_CHARS {
        return Err(HashError::Malformed(
            "bcrypt hash is not 60 characters long",
        ));
    }
    let (tens, units) = (bytes[4], bytes[5]);
    if !tens.is_ascii_digit() || !units.is_ascii_digit() || bytes[6] != b'$' {
        return Err(HashError::Malformed(
            "bcrypt cost is not two decimal digits",
        ));
    }
    let cost = u32::from(tens - b'0') * 10 + u32::from(units - b'0');
    if !(BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost) {
        return Err(HashError::Malformed("bcrypt cost is outside 04..=31"));
    }
    // libxcrypt re-encodes the decoded salt into its output, so a salt with stray low bits
    // comes back different and the stored text could never match.
    check_base64(
        &bytes[7..29],
        22,
        BCRYPT_ALPHABET,
        BCRYPT_SALT_UNUSED_TAIL_BITS,
        Field::BcryptSalt,
    )?;
    check_base64(
        &bytes[29..],
        31,
        BCRYPT_ALPHABET,
        BCRYPT_DIGEST_UNUSED_TAIL_BITS,
        Field::Digest,
    )?;
    Ok(Kind::Bcrypt {
        cost,
        text: body.into(),
    })
}

/// Tells recognisable foreign schemes (reported as unsupported, so an operator knows a
/// migration is needed) apart from text that is no hash at all.
fn classify_unrecognised(body: &str) -> HashError {
    const UNSUPPORTED: HashError = HashError::Unsupported("crypt(3) scheme not handled here");
    let bytes = body.as_bytes();
    if let Some(rest) = bytes.strip_prefix(b"$") {
        let id_len = rest
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
            .count();
        // Modular crypt format ids end at '$' (Sun's md5 uses ',' for its rounds).
        if id_len > 0 && matches!(rest.get(id_len), Some(b'$' | b',')) {
            return UNSUPPORTED;
        }
        return HashError::Malformed("not a crypt(3) hash");
    }
    let traditional_des = bytes.len() == 13 && bytes.iter().all(|b| in_alphabet(*b));
    let bsdi_des =
        bytes.len() == 20 && bytes[0] == b'_' && bytes[1..].iter().all(|b| in_alphabet(*b));
    if traditional_des || bsdi_des {
        return HashError::Unsupported("DES-based crypt(3)");
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return HashError::Malformed("empty or whitespace-only hash");
    }
    HashError::Malformed("not a crypt(3) hash")
}

fn in_alphabet(b: u8) -> bool {
    CRYPT_ALPHABET.contains(&b)
}

/// libxcrypt refuses settings containing control characters, spaces, non-ASCII bytes or any
/// of `!*:;\` (checked on this machine for every byte value), and never prints more salt
/// than the scheme uses.
fn check_salt(salt: &[u8], max_len: usize) -> Result<(), HashError> {
    if salt.len() > max_len {
        return Err(HashError::Malformed(
            "salt is longer than the scheme allows",
        ));
    }
    let acceptable = |b: &u8| (0x21..=0x7e).contains(b) && !b"$!*:;\\".contains(b);
    if !salt.iter().all(acceptable) {
        return Err(HashError::Malformed(
            "salt contains a character crypt(3) rejects",
        ));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Field {
    Digest,
    BcryptSalt,
}

fn check_base64(
    text: &[u8],
    expected_len: usize,
    alphabet: &[u8; 64],
    unused_tail_bits: u8,
    field: Field,
) -> Result<(), HashError> {
    let (length, character, tail) = match field {
        Field::Digest => (
            "digest has the wrong length for its scheme",
            "digest contains a character outside the base64 alphabet",
            "digest ends in a character crypt(3) never produces",
        ),
        Field::BcryptSalt => (
            "bcrypt salt has the wrong length",
            "bcrypt salt contains a character outside the base64 alphabet",
            "bcrypt salt ends in a character crypt(3) never produces",
        ),
    };
    if text.len() != expected_len {
        return Err(HashError::Malformed(length));
    }
    let mut last_value = 0u8;
    for c in text {
        let position = alphabet
            .iter()
            .position(|a| a == c)
            .ok_or(HashError::Malformed(character))?;
        // position < 64, so it always fits.
        last_value = u8::try_from(position).unwrap_or(u8::MAX);
    }
    if last_value & unused_tail_bits != 0 {
        return Err(HashError::Malformed(tail));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------

fn constant_time_equal(computed: &[u8], stored: &[u8]) -> bool {
    computed.ct_eq(stored).into()
}

/// Appends `chars` characters encoding `high:mid:low` as crypt(3) does: least significant
/// six bits first.
fn push_crypt_base64(out: &mut Vec<u8>, high: u8, mid: u8, low: u8, chars: usize) {
    let mut word = (u32::from(high) << 16) | (u32::from(mid) << 8) | u32::from(low);
    for _ in 0..chars {
        out.push(CRYPT_ALPHABET[(word & 0x3f) as usize]);
        word >>= 6;
    }
}

/// `sha_crypt::sha512_crypt` returns the raw digest; the byte shuffling and base64 that turn
/// it into crypt(3) text are done here. The crate's own verifier is not used because its
/// field syntax rejects salts libxcrypt accepts (empty, or containing e.g. `_@#%~`).
fn sha512_digest_text(password: &[u8], salt: &[u8], params: Params) -> Vec<u8> {
    let raw = sha512_crypt(password, salt, params);
    let mut out = Vec::with_capacity(SHA512_DIGEST_CHARS);
    for &(high, mid, low) in &SHA512_GROUPS {
        push_crypt_base64(&mut out, raw[high], raw[mid], raw[low], 4);
    }
    push_crypt_base64(&mut out, 0, 0, raw[63], 2);
    out
}

/// See [`sha512_digest_text`].
fn sha256_digest_text(password: &[u8], salt: &[u8], params: Params) -> Vec<u8> {
    let raw = sha256_crypt(password, salt, params);
    let mut out = Vec::with_capacity(SHA256_DIGEST_CHARS);
    for &(high, mid, low) in &SHA256_GROUPS {
        push_crypt_base64(&mut out, raw[high], raw[mid], raw[low], 4);
    }
    push_crypt_base64(&mut out, 0, raw[31], raw[30], 3);
    out
}

/// md5-crypt is written out here because no maintained crate on crates.io provides it.
///
/// It follows Poul-Henning Kamp's FreeBSD algorithm as glibc and libxcrypt implement it.
fn md5_digest_text(password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut side = Md5::new();
    side.update(password);
    side.update(salt);
    side.update(password);
    let side_sum = side.finalize();

    let mut main = Md5::new();
    main.update(password);
    main.update(b"$1$");
    main.update(salt);
    // As many bytes of the side digest as the password is long, repeating it as needed.
    for chunk in password.chunks(side_sum.len()) {
        main.update(&side_sum[..chunk.len()]);
    }
    // Kamp's original mixes in, per bit of the length, either a zero byte (from a buffer he
    // had just cleared) or the first password byte. Odd, but every implementation keeps it.
    let mut length_bits = password.len();
    while length_bits != 0 {
        if length_bits & 1 == 1 {
            main.update([0u8]);
        } else {
            main.update(&password[..1]);
        }
        length_bits >>= 1;
    }
    let mut sum: [u8; 16] = main.finalize().into();

    for round in 0..MD5_ROUNDS {
        let mut step = Md5::new();
        if round % 2 == 1 {
            step.update(password);
        } else {
            step.update(sum);
        }
        if round % 3 != 0 {
            step.update(salt);
        }
        if round % 7 != 0 {
            step.update(password);
        }
        if round % 2 == 1 {
            step.update(sum);
        } else {
            step.update(password);
        }
        sum = step.finalize().into();
    }

    let mut out = Vec::with_capacity(MD5_DIGEST_CHARS);
    for &(high, mid, low) in &MD5_GROUPS {
        push_crypt_base64(&mut out, sum[high], sum[mid], sum[low], 4);
    }
    push_crypt_base64(&mut out, 0, 0, sum[11], 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Reference vectors: produced on Debian 12 (libxcrypt 4.4.33) with
    //   python3 -W ignore -c "import crypt; print(crypt.crypt(PASSWORD, SETTING))"
    // and, where marked, cross-checked with `openssl passwd -6/-5/-1 -salt SALT PASSWORD`.

    const B1_HASH: &str = "$6$xyz$C/vOVAshxi1VfgblFW220kcBCpZ7lihIohmNInE5M6wCQdxDaleG6LZzzGiRJ8sOWQHGwtYuz.8kcfZntV1OY/";

    const HORSE: &str = "correct horse";
    // crypt.crypt(HORSE, "$6$saltsaltsaltsalt$"); same output from openssl passwd -6
    const HORSE_SHA512: &str = "$6$saltsaltsaltsalt$GkzgkzVbauGAKXpOTbypQEKy/9yJWVjcvXvDw7CxoJjnJ1.w.g1rV8bhCVTpHrRrO/h6b3DAwPN3y5qmHXZ1R1";
    // crypt.crypt(HORSE, "$6$rounds=5000$saltsaltsaltsalt$")
    const HORSE_SHA512_R5000: &str = "$6$rounds=5000$saltsaltsaltsalt$GkzgkzVbauGAKXpOTbypQEKy/9yJWVjcvXvDw7CxoJjnJ1.w.g1rV8bhCVTpHrRrO/h6b3DAwPN3y5qmHXZ1R1";
    // crypt.crypt(HORSE, "$6$rounds=1000$saltsaltsaltsalt$")
    const HORSE_SHA512_R1000: &str = "$6$rounds=1000$saltsaltsaltsalt$90PYBEdNthW.s1MdBAGmZzUlBcO3THQlu3cLQCSmKwwDU4eOztdiNqFHvvjbULR8htwd7bcG6QXZbqiJ2JtSh.";
    // crypt.crypt(HORSE, "$6$a_b@#%~$"): a salt libxcrypt accepts but MCF parsers often do not
    const HORSE_SHA512_ODD_SALT: &str = "$6$a_b@#%~$jQfbl22K58VvWrbA6Z.aidSTIxkO.67CE3VI6BHvj0zVJZC1Iix1yp7.F4ADlgS.INRBOeqO.Ca8vohoaV6Ca0";
    // crypt.crypt(HORSE, "$6$$")
    const HORSE_SHA512_EMPTY_SALT: &str = "$6$$6LUofpTKYGJWmsxkYcfhDE9wD283B.yVCb5N1sauapb401RaE4WCRGITJhyCTMm1Vn0P9o4AW6q0BRXpOJZc9.";
    // crypt.crypt(HORSE, "$6$rounds=1000$$")
    const HORSE_SHA512_R1000_EMPTY_SALT: &str = "$6$rounds=1000$$MAtKCwSDBQcRsZx4EQFNZcdGeqdhR4..Fvk.aVF69HxiT.DIHWXc7OXyxT7BpUzTA/i1BYyzedxa6z55z119y0";
    // crypt.crypt(HORSE, "$5$saltsaltsaltsalt$"); same output from openssl passwd -5
    const HORSE_SHA256: &str = "$5$saltsaltsaltsalt$vzxOvVGSAthqKsVBFh1uWPorUBPL5g6mz42rSF1xpk5";
    // crypt.crypt(HORSE, "$5$rounds=1000$saltsalt$")
    const HORSE_SHA256_R1000: &str =
        "$5$rounds=1000$saltsalt$R6e4P8ccT9iMqkYg7Z8YtpId/lfsIfnuPkp8WXposU8";
    // crypt.crypt(HORSE, "$1$saltsalt$"); same output from openssl passwd -1
    const HORSE_MD5: &str = "$1$saltsalt$NuzA7WTAelpl95xgBGWN60";
    // crypt.crypt(HORSE, "$1$ab$")
    const HORSE_MD5_SHORT_SALT: &str = "$1$ab$.ThsTrbyIbEahEdE8LNwj1";
    // crypt.crypt(HORSE, "$1$$")
    const HORSE_MD5_EMPTY_SALT: &str = "$1$$IfI/mw4YSCwcQoW.D.DSu1";
    // crypt.crypt(HORSE, "$2b$04$abcdefghijklmnopqrstuu"), and the same with $2a$ / $2y$
    const HORSE_BCRYPT_2B: &str = "$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e";
    const HORSE_BCRYPT_2A: &str = "$2a$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e";
    const HORSE_BCRYPT_2Y: &str = "$2y$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e";

    // crypt.crypt("", "$6$emptypw$") and likewise for $5$, $1$, $2b$04$
    const EMPTY_SHA512: &str = "$6$emptypw$TWmzQ8/uLn1BFSZ5Lkfum8lAba5vixF9Nl3Aiof.Praatq9nh0kkPuTdoVrIL6du0L6LAoadbPq.q.D7keveg/";
    const EMPTY_SHA256: &str = "$5$emptypw$j9q8SS0S/38BPIfLsJXsxKvW/sehZJL1AxFdvBj6YQ2";
    const EMPTY_MD5: &str = "$1$emptypw$zhghydSokQESgWwaHRZFS/";
    const EMPTY_BCRYPT: &str = "$2b$04$emptypasswordemptypase0DhOCmRvTOWVQFufy/Iyi.36qWZH7Xu";

    // crypt.crypt("abcdefghij" * 20, SETTING): a 200-byte password
    const LONG_SHA512: &str = "$6$longpw$ISd2..cFR.h8/geSSqaLFyxmV0RAzXYXcioPAbIlyJ.NYSwOkuT3oNYRMBsMexnerMynxEoNn10THMWpaUXr/1";
    const LONG_SHA256: &str = "$5$longpw$HsEpLia7V3RGv5wxGJRSiYPxNgW.gPHz7fklyVOl7m8";
    const LONG_MD5: &str = "$1$longpw$PO4yuE9Yzkg1JiCyBEd93/";
    // libxcrypt gave this same string for the full 200 bytes and for the first 72 only.
    const LONG_BCRYPT: &str = "$2b$04$longpasswordlongpasswe5enqh.HgVjeeLIYTnTB8cP.gUbf83.O";

    // crypt.crypt("Pässwörd✓", SETTING)
    const NON_ASCII: &str = "Pässwörd✓";
    const NON_ASCII_SHA512: &str = "$6$nonascii$JjHjNTG0UegG7gKbxgt8e4wnseX46IB.8RAQl4Tim0wI47Pseo2STM4ZDu0JnsE8bUMdoT13dMfs9ZraLLGFa/";
    const NON_ASCII_SHA256: &str = "$5$nonascii$Io2kYgoUJN897WAhzjYFqmp0TjDoxXrhQp19cBgYOJ2";
    const NON_ASCII_MD5: &str = "$1$nonascii$XVk3V69V.vMnnn4mj.X5D.";
    const NON_ASCII_BCRYPT: &str = "$2b$05$nonasciipasswordnonasOVjrUY3mBiWfL5L6PqEWXjrG5bLoshLK";

    fn long_password() -> String {
        "abcdefghij".repeat(20)
    }

    fn check(stored: &str, password: &str) -> Verdict {
        CryptHash::parse(stored)
            .unwrap_or_else(|e| panic!("{stored} should parse: {e}"))
            .verify(password, &Limits::default())
    }

    fn assert_matches_only(stored: &str, password: &str) {
        assert_eq!(check(stored, password), Verdict::Match, "{stored}");
        for wrong in ["", "x", "correct horse ", "Correct horse", "wrong password"] {
            if wrong != password {
                assert_eq!(
                    check(stored, wrong),
                    Verdict::Mismatch,
                    "{stored} / {wrong:?}"
                );
            }
        }
    }

    fn malformed(stored: &str) -> bool {
        matches!(CryptHash::parse(stored), Err(HashError::Malformed(_)))
    }

    fn unsupported(stored: &str) -> bool {
        matches!(CryptHash::parse(stored), Err(HashError::Unsupported(_)))
    }

    #[test]
    fn sha512_b1systems_vector_matches_only_the_exact_password() {
        let hash = CryptHash::parse(B1_HASH).unwrap();
        assert_eq!(hash.scheme(), Scheme::Sha512Crypt);
        assert_eq!(hash.cost(), 5000);
        let limits = Limits::default();
        assert_eq!(hash.verify("B1Systems!", &limits), Verdict::Match);
        for wrong in ["b1systems!", "B1Systems", "", "B1Systems! ", " B1Systems!"] {
            assert_eq!(hash.verify(wrong, &limits), Verdict::Mismatch, "{wrong:?}");
        }
    }

    #[test]
    fn sha512_without_rounds_matches_glibc() {
        assert_matches_only(HORSE_SHA512, HORSE);
        assert_eq!(CryptHash::parse(HORSE_SHA512).unwrap().cost(), 5000);
    }

    #[test]
    fn sha512_explicit_rounds_5000_matches_glibc() {
        assert_matches_only(HORSE_SHA512_R5000, HORSE);
        assert_eq!(CryptHash::parse(HORSE_SHA512_R5000).unwrap().cost(), 5000);
    }

    #[test]
    fn sha512_rounds_1000_matches_glibc() {
        assert_matches_only(HORSE_SHA512_R1000, HORSE);
        assert_eq!(CryptHash::parse(HORSE_SHA512_R1000).unwrap().cost(), 1000);
    }

    #[test]
    fn sha512_salts_outside_the_base64_alphabet_match_glibc() {
        assert_matches_only(HORSE_SHA512_ODD_SALT, HORSE);
        assert_matches_only(HORSE_SHA512_EMPTY_SALT, HORSE);
        assert_matches_only(HORSE_SHA512_R1000_EMPTY_SALT, HORSE);
    }

    #[test]
    fn sha256_with_and_without_rounds_matches_glibc() {
        assert_matches_only(HORSE_SHA256, HORSE);
        assert_matches_only(HORSE_SHA256_R1000, HORSE);
        let hash = CryptHash::parse(HORSE_SHA256_R1000).unwrap();
        assert_eq!((hash.scheme(), hash.cost()), (Scheme::Sha256Crypt, 1000));
    }

    #[test]
    fn md5_crypt_matches_glibc() {
        assert_matches_only(HORSE_MD5, HORSE);
        assert_matches_only(HORSE_MD5_SHORT_SALT, HORSE);
        assert_matches_only(HORSE_MD5_EMPTY_SALT, HORSE);
        let hash = CryptHash::parse(HORSE_MD5).unwrap();
        assert_eq!((hash.scheme(), hash.cost()), (Scheme::Md5Crypt, 1000));
    }

    #[test]
    fn bcrypt_2a_2b_2y_forms_match_glibc() {
        for stored in [HORSE_BCRYPT_2B, HORSE_BCRYPT_2A, HORSE_BCRYPT_2Y] {
            assert_matches_only(stored, HORSE);
            let hash = CryptHash::parse(stored).unwrap();
            assert_eq!((hash.scheme(), hash.cost()), (Scheme::Bcrypt, 4));
        }
    }

    #[test]
    fn empty_password_matches_glibc_in_every_scheme() {
        for stored in [EMPTY_SHA512, EMPTY_SHA256, EMPTY_MD5, EMPTY_BCRYPT] {
            assert_matches_only(stored, "");
        }
    }

    #[test]
    fn long_200_byte_password_matches_glibc_in_every_scheme() {
        let password = long_password();
        assert_eq!(password.len(), 200);
        for stored in [LONG_SHA512, LONG_SHA256, LONG_MD5, LONG_BCRYPT] {
            assert_matches_only(stored, &password);
        }
        // Every byte counts for the crypt schemes (bcrypt is covered by the 72-byte test).
        for stored in [LONG_SHA512, LONG_SHA256, LONG_MD5] {
            assert_eq!(
                check(stored, &password[..199]),
                Verdict::Mismatch,
                "{stored}"
            );
        }
    }

    #[test]
    fn bcrypt_ignores_bytes_after_the_72nd_like_libxcrypt() {
        let password = long_password();
        assert_eq!(check(LONG_BCRYPT, &password[..72]), Verdict::Match);
        assert_eq!(
            check(LONG_BCRYPT, &format!("{}tail", &password[..72])),
            Verdict::Match
        );
        assert_eq!(check(LONG_BCRYPT, &password[..71]), Verdict::Mismatch);
        // sha-crypt has no such limit.
        assert_eq!(check(LONG_SHA512, &password[..72]), Verdict::Mismatch);
    }

    #[test]
    fn non_ascii_password_is_hashed_as_utf8_like_glibc() {
        for stored in [
            NON_ASCII_SHA512,
            NON_ASCII_SHA256,
            NON_ASCII_MD5,
            NON_ASCII_BCRYPT,
        ] {
            assert_matches_only(stored, NON_ASCII);
            assert_eq!(check(stored, "Passwoerd"), Verdict::Mismatch, "{stored}");
            assert_eq!(check(stored, "Pässwörd"), Verdict::Mismatch, "{stored}");
        }
    }

    #[test]
    fn password_with_nul_never_matches() {
        // Under C semantics "correct horse\0..." would be cut back to "correct horse".
        for stored in [HORSE_SHA512, HORSE_MD5, HORSE_BCRYPT_2B] {
            assert_eq!(
                check(stored, "correct horse\0junk"),
                Verdict::Mismatch,
                "{stored}"
            );
        }
    }

    #[test]
    fn brace_prefixes_that_agree_with_the_hash_are_accepted() {
        let accepted = [
            (format!("{{SHA512-CRYPT}}{B1_HASH}"), "B1Systems!"),
            (format!("{{sha512-crypt}}{HORSE_SHA512}"), HORSE),
            (format!("{{SHA256-CRYPT}}{HORSE_SHA256}"), HORSE),
            (format!("{{MD5-CRYPT}}{HORSE_MD5}"), HORSE),
            (format!("{{BLF-CRYPT}}{HORSE_BCRYPT_2Y}"), HORSE),
            (format!("{{CRYPT}}{B1_HASH}"), "B1Systems!"),
            (format!("{{Crypt}}{HORSE_MD5}"), HORSE),
            (format!("{{crypt}}{HORSE_BCRYPT_2B}"), HORSE),
        ];
        for (stored, password) in &accepted {
            assert_matches_only(stored, password);
        }
        let prefixed = CryptHash::parse(&format!("{{SHA512-CRYPT}}{B1_HASH}")).unwrap();
        assert_eq!(
            (prefixed.scheme(), prefixed.cost()),
            (Scheme::Sha512Crypt, 5000)
        );
    }

    #[test]
    fn brace_prefix_naming_another_scheme_is_malformed() {
        assert!(malformed(&format!("{{SHA256-CRYPT}}{B1_HASH}")));
        assert!(malformed(&format!("{{SHA512-CRYPT}}{HORSE_SHA256}")));
        assert!(malformed(&format!("{{MD5-CRYPT}}{HORSE_BCRYPT_2B}")));
        assert!(malformed(&format!("{{BLF-CRYPT}}{HORSE_MD5}")));
        assert!(malformed("{SHA512-CRYPT}$y$j9T$abc$def"));
        assert!(malformed("{SHA512-CRYPT}"));
        assert!(malformed("{CRYPT}"));
        assert!(malformed("{SHA512-CRYPT"));
    }

    #[test]
    fn unknown_brace_prefix_is_unsupported() {
        assert!(unsupported("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="));
        assert!(unsupported("{PLAIN}secret"));
        assert!(unsupported("{SHA512}abc"));
        assert!(unsupported("{}abc"));
    }

    #[test]
    fn other_crypt_schemes_are_unsupported() {
        for stored in [
            "abzlUXK5ed5rs",        // traditional DES
            "_J9..CCCCXBrJUJV154M", // BSDi extended DES
            "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
            "$gy$j9T$abc$def",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$7$CU..../....abc$def",
            "$2x$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e",
            "$2$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e",
            "$md5,rounds=5000$GUBv0xjJ$$mSwgIswdjlTY0YxV7HBVm0",
            "$3$$8846f7eaee8fb117ad06bdd830b7586c",
        ] {
            assert!(unsupported(stored), "{stored}");
        }
        assert!(unsupported("{CRYPT}abzlUXK5ed5rs"));
    }

    #[test]
    fn empty_whitespace_and_garbage_are_malformed() {
        for stored in [
            "",
            " ",
            "\t\n",
            "garbage",
            "not a hash at all",
            "$",
            "$$",
            "$$$",
            "$6",
            "$6$",
            "$6$abc",
            "$1$",
            "$2b$",
            "!",
            "*",
            "!!",
            "*0",
            "\u{0}",
            "ÄÖÜ",
        ] {
            assert!(malformed(stored), "{stored:?}");
        }
    }

    #[test]
    fn sha_text_glibc_would_never_output_is_malformed() {
        let digest512 = &HORSE_SHA512["$6$saltsaltsaltsalt$".len()..];
        let digest256 = &HORSE_SHA256["$5$saltsaltsaltsalt$".len()..];
        let cases = [
            format!("$6$rounds=999$salt${digest512}"),
            format!("$6$rounds=0$salt${digest512}"),
            format!("$6$rounds=1000000000$salt${digest512}"),
            format!("$6$rounds=99999999999999999999$salt${digest512}"),
            format!("$6$rounds=05000$salt${digest512}"),
            format!("$6$rounds=+5000$salt${digest512}"),
            format!("$6$rounds= 5000$salt${digest512}"),
            format!("$6$rounds=$salt${digest512}"),
            format!("$6$rounds=abc${digest512}"),
            format!("$6$rounds=5000${digest512}"),
            // salt longer than 16
            format!("$6$saltsaltsaltsalts${digest512}"),
            // salt characters libxcrypt refuses
            format!("$6$a!b${digest512}"),
            format!("$6$a b${digest512}"),
            format!("$6$a:b${digest512}"),
            format!("$6$a\\b${digest512}"),
            format!("$6$sält${digest512}"),
            // digest length, alphabet and final character
            format!("$6$saltsaltsaltsalt${}", &digest512[1..]),
            format!("$6$saltsaltsaltsalt${digest512}."),
            format!(
                "$6$saltsaltsaltsalt${}-{}",
                &digest512[..40],
                &digest512[41..]
            ),
            format!("$6$saltsaltsaltsalt${}2", &digest512[..85]),
            format!("$6$saltsaltsaltsalt${digest512}$"),
            format!("$6$saltsaltsaltsalt${digest512}\n"),
            format!(" $6$saltsaltsaltsalt${digest512}"),
            format!("$6$saltsaltsaltsalt${digest256}"),
            format!("$5$saltsaltsaltsalt${digest512}"),
            format!("$5$saltsaltsaltsalt${}E", &digest256[..42]),
            format!("$5$rounds=999$saltsalt${digest256}"),
        ];
        for stored in &cases {
            assert!(malformed(stored), "{stored}");
        }
        // The last character may carry only 2 (sha512) or 4 (sha256) bits.
        assert!(CryptHash::parse(&format!("$6$saltsaltsaltsalt${}1", &digest512[..85])).is_ok());
        assert!(CryptHash::parse(&format!("$5$saltsaltsaltsalt${}D", &digest256[..42])).is_ok());
        // Extreme but valid rounds parse fine; the limits decide whether they are computed.
        assert_eq!(
            CryptHash::parse(&format!("$6$rounds=999999999$salt${digest512}"))
                .unwrap()
                .cost(),
            999_999_999
        );
    }

    #[test]
    fn md5_text_glibc_would_never_output_is_malformed() {
        let digest = &HORSE_MD5["$1$saltsalt$".len()..];
        for stored in [
            format!("$1$saltsalts${digest}"),
            format!("$1$salt*${digest}"),
            format!("$1$saltsalt${}", &digest[1..]),
            format!("$1$saltsalt${digest}."),
            format!("$1$saltsalt${}2", &digest[..21]),
            format!("$1$saltsalt${}_", &digest[..21]),
            format!("$1${digest}"),
        ] {
            assert!(malformed(&stored), "{stored}");
        }
    }

    #[test]
    fn bcrypt_text_libxcrypt_would_never_output_is_malformed() {
        let tail = &HORSE_BCRYPT_2B[7..];
        for stored in [
            format!("$2b$03${tail}"),
            format!("$2b$32${tail}"),
            format!("$2b$99${tail}"),
            format!("$2b$4${tail}"),
            format!("$2b$+4${tail}"),
            format!("$2b$ 4${tail}"),
            format!("$2b$004${tail}"),
            format!("$2b$04${}", &tail[1..]),
            format!("$2b$04${tail}."),
            // salt whose final character has stray low bits: libxcrypt rewrites it
            format!("$2b$04$abcdefghijklmnopqrstuv{}", &tail[22..]),
            // digest whose final character has stray low bits
            format!("$2b$04${}f", &tail[..52]),
            format!("$2b$04${}!", &tail[..52]),
            format!("$2b$04$abcdefghijklmnopqrstuü{}", &tail[23..]),
        ] {
            assert!(malformed(&stored), "{stored}");
        }
    }

    #[test]
    fn password_longer_than_limit_is_refused_before_hashing() {
        let limits = Limits::default();
        let hash = CryptHash::parse(HORSE_SHA512).unwrap();
        let too_long = "p".repeat(limits.max_password_bytes + 1);
        assert_eq!(hash.verify(&too_long, &limits), Verdict::PasswordTooLong);
        let at_limit = "p".repeat(limits.max_password_bytes);
        assert_eq!(hash.verify(&at_limit, &limits), Verdict::Mismatch);
        // The limit counts UTF-8 bytes, not characters.
        let tight = Limits {
            max_password_bytes: NON_ASCII.len() - 1,
            ..Limits::default()
        };
        assert_eq!(
            CryptHash::parse(NON_ASCII_MD5)
                .unwrap()
                .verify(NON_ASCII, &tight),
            Verdict::PasswordTooLong
        );
    }

    #[test]
    fn excessive_rounds_are_refused_instantly_without_hashing() {
        let digest = &HORSE_SHA512["$6$saltsaltsaltsalt$".len()..];
        let hash =
            CryptHash::parse(&format!("$6$rounds=999999999$saltsaltsaltsalt${digest}")).unwrap();
        // Computing 999999999 rounds would take minutes: reaching the next
        // line at all shows nothing was hashed.
        assert_eq!(hash.verify(HORSE, &Limits::default()), Verdict::CostTooHigh);

        let strict = Limits {
            max_rounds: 4_999,
            ..Limits::default()
        };
        assert_eq!(
            check_with(HORSE_SHA512, HORSE, &strict),
            Verdict::CostTooHigh
        );
        assert_eq!(
            check_with(HORSE_SHA256, HORSE, &strict),
            Verdict::CostTooHigh
        );
        assert_eq!(
            check_with(HORSE_SHA512_R1000, HORSE, &strict),
            Verdict::Match
        );
        let exact = Limits {
            max_rounds: 5_000,
            ..Limits::default()
        };
        assert_eq!(check_with(HORSE_SHA512, HORSE, &exact), Verdict::Match);
        // md5-crypt counts as its fixed 1000 rounds.
        let below_md5 = Limits {
            max_rounds: 999,
            ..Limits::default()
        };
        assert_eq!(
            check_with(HORSE_MD5, HORSE, &below_md5),
            Verdict::CostTooHigh
        );
    }

    #[test]
    fn excessive_bcrypt_cost_is_refused_instantly_without_hashing() {
        let tail = &HORSE_BCRYPT_2B[7..];
        let hash = CryptHash::parse(&format!("$2b$31${tail}")).unwrap();
        assert_eq!(hash.cost(), 31);
        assert_eq!(hash.verify(HORSE, &Limits::default()), Verdict::CostTooHigh);

        let strict = Limits {
            max_bcrypt_cost: 4,
            ..Limits::default()
        };
        assert_eq!(check_with(HORSE_BCRYPT_2B, HORSE, &strict), Verdict::Match);
        assert_eq!(
            check_with(NON_ASCII_BCRYPT, NON_ASCII, &strict),
            Verdict::CostTooHigh
        );
        // bcrypt cost is not measured against max_rounds.
        let few_rounds = Limits {
            max_rounds: 1_000,
            ..Limits::default()
        };
        assert_eq!(
            check_with(HORSE_BCRYPT_2B, HORSE, &few_rounds),
            Verdict::Match
        );
    }

    #[test]
    fn password_length_is_checked_before_cost() {
        let tail = &HORSE_BCRYPT_2B[7..];
        let hash = CryptHash::parse(&format!("$2b$31${tail}")).unwrap();
        let limits = Limits::default();
        let too_long = "p".repeat(limits.max_password_bytes + 1);
        assert_eq!(hash.verify(&too_long, &limits), Verdict::PasswordTooLong);
    }

    fn check_with(stored: &str, password: &str, limits: &Limits) -> Verdict {
        CryptHash::parse(stored).unwrap().verify(password, limits)
    }

    #[test]
    fn debug_shows_scheme_and_cost_but_not_salt_or_digest() {
        let cases = [
            (B1_HASH, "xyz", "C/vOVAshxi1VfgblFW220k"),
            (HORSE_SHA512_R1000, "saltsalt", "90PYBEdNthW"),
            (HORSE_SHA256, "saltsalt", "vzxOvVGSAth"),
            (HORSE_MD5, "saltsalt", "NuzA7WTAelp"),
            (HORSE_BCRYPT_2B, "abcdefghijklmnop", "jydOTSfIH"),
        ];
        for (stored, salt, digest_start) in cases {
            let shown = format!("{:?}", CryptHash::parse(stored).unwrap());
            assert!(!shown.contains(salt), "{shown}");
            assert!(!shown.contains(digest_start), "{shown}");
            assert!(
                shown.contains("scheme") && shown.contains("cost"),
                "{shown}"
            );
        }
        let shown = format!("{:?}", CryptHash::parse(HORSE_SHA512_R1000).unwrap());
        assert_eq!(shown, "CryptHash { scheme: Sha512Crypt, cost: 1000 }");
    }

    #[test]
    fn error_display_never_contains_hash_text() {
        let salt = "SeCrEtSaLt";
        let digest = "DiGeStDiGeStDiGeSt";
        let inputs = [
            format!("$6${salt}${digest}"),
            format!("$6$rounds=12${salt}${digest}"),
            format!("$5${salt}{salt}${digest}"),
            format!("$1${salt}${digest}"),
            format!("$2b$04${salt}{digest}"),
            format!("$y$j9T${salt}${digest}"),
            format!("{{SSHA}}{salt}{digest}"),
            format!("{{SHA256-CRYPT}}$6${salt}${digest}"),
            format!("{salt}{digest}"),
            "DiGeStSeCrEt1".to_owned(),
        ];
        for stored in &inputs {
            let err = CryptHash::parse(stored).unwrap_err();
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains("SeCrEt"), "{shown}");
                assert!(!shown.contains("DiGeSt"), "{shown}");
            }
        }
    }

    #[test]
    fn dummy_never_matches_and_has_requested_scheme_and_cost() {
        let limits = Limits::default();
        let cases = [
            (Scheme::Sha512Crypt, 5_000),
            (Scheme::Sha512Crypt, 1_000),
            (Scheme::Sha256Crypt, 5_000),
            (Scheme::Md5Crypt, 1_000),
            (Scheme::Bcrypt, 4),
        ];
        for (scheme, cost) in cases {
            let dummy = CryptHash::dummy(scheme, cost);
            assert_eq!((dummy.scheme(), dummy.cost()), (scheme, cost));
            for password in ["", "B1Systems!", HORSE, NON_ASCII] {
                assert_eq!(
                    dummy.verify(password, &limits),
                    Verdict::Mismatch,
                    "{scheme:?}"
                );
            }
        }
        // A decoy obeys the limits exactly like a real hash of that cost.
        assert_eq!(
            CryptHash::dummy(Scheme::Bcrypt, 20).verify("x", &limits),
            Verdict::CostTooHigh
        );
        assert_eq!(
            CryptHash::dummy(Scheme::Sha512Crypt, 2_000_000).verify("x", &limits),
            Verdict::CostTooHigh
        );
    }

    #[test]
    fn dummy_clamps_costs_the_scheme_cannot_express() {
        assert_eq!(CryptHash::dummy(Scheme::Sha512Crypt, 10).cost(), 1_000);
        assert_eq!(
            CryptHash::dummy(Scheme::Sha256Crypt, u32::MAX).cost(),
            999_999_999
        );
        assert_eq!(CryptHash::dummy(Scheme::Bcrypt, 1).cost(), 4);
        assert_eq!(CryptHash::dummy(Scheme::Bcrypt, 99).cost(), 31);
        assert_eq!(CryptHash::dummy(Scheme::Md5Crypt, 12).cost(), 1_000);
    }

    #[test]
    fn hash_sha512_output_round_trips_through_parse_and_verify() {
        let password = "Pässwörd✓ with spaces";
        let stored = hash_sha512(password);
        let salt = stored
            .strip_prefix("$6$")
            .and_then(|rest| rest.split_once('$'))
            .map(|(salt, _)| salt)
            .unwrap();
        assert_eq!(salt.len(), 16);
        assert!(salt.bytes().all(in_alphabet));
        let hash = CryptHash::parse(&stored).unwrap();
        assert_eq!((hash.scheme(), hash.cost()), (Scheme::Sha512Crypt, 5000));
        assert_eq!(hash.verify(password, &Limits::default()), Verdict::Match);
        assert_eq!(
            hash.verify("Pässwörd✓", &Limits::default()),
            Verdict::Mismatch
        );
        assert_ne!(hash_sha512(password), stored, "salts must be random");
    }

    #[test]
    fn scheme_names_are_stable() {
        assert_eq!(Scheme::Sha512Crypt.name(), "sha512-crypt");
        assert_eq!(Scheme::Sha256Crypt.name(), "sha256-crypt");
        assert_eq!(Scheme::Bcrypt.name(), "bcrypt");
        assert_eq!(Scheme::Md5Crypt.name(), "md5-crypt");
    }

    #[test]
    fn default_limits_are_as_documented() {
        let limits = Limits::default();
        assert_eq!(limits.max_rounds, 1_000_000);
        assert_eq!(limits.max_bcrypt_cost, 14);
        assert_eq!(limits.max_password_bytes, 256);
    }

    /// Cheap limits so that verifying whatever the generators produce stays fast.
    fn cheap_limits() -> Limits {
        Limits {
            max_rounds: 2_000,
            max_bcrypt_cost: 4,
            max_password_bytes: 64,
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(stored in any::<String>()) {
            let _ = CryptHash::parse(&stored);
        }

        #[test]
        fn parse_and_verify_never_panic_on_hash_like_text(
            stored in "(\\{[A-Za-z0-9-]{0,13}\\}?)?\\$(1|5|6|2a|2b|2y|2x|y|)\\$?(rounds=[0-9+ ]{0,11}\\$)?[ -~äü✓]{0,70}",
            password in "\\PC{0,8}",
        ) {
            if let Ok(hash) = CryptHash::parse(&stored) {
                let _ = hash.verify(&password, &cheap_limits());
            }
        }

        #[test]
        fn mutating_a_valid_hash_never_panics_and_never_matches_a_wrong_password(
            index in 0usize..200,
            replacement in any::<char>(),
        ) {
            let mut chars: Vec<char> = HORSE_MD5.chars().collect();
            let slot = index % chars.len();
            chars[slot] = replacement;
            let mutated: String = chars.into_iter().collect();
            if let Ok(hash) = CryptHash::parse(&mutated) {
                prop_assert_ne!(hash.verify("wrong password", &cheap_limits()), Verdict::Match);
                if mutated != HORSE_MD5 {
                    prop_assert_ne!(hash.verify(HORSE, &cheap_limits()), Verdict::Match);
                }
            }
        }
    }
}
