//! The key-derivation functions: argon2 (PHC strings), the PBKDF2 family, and scrypt in
//! Firebase's and werkzeug's forms. The primitives are RustCrypto's; this file reads the
//! stored forms and compares in constant time.

use aes::cipher::{KeyIvInit, StreamCipher};
use argon2::{Algorithm, Argon2, Version};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use super::codec::*;
use super::*;

/// Longest derived key read from a stored value: PBKDF2's work grows with every block of
/// output, so a stored value cannot ask for more than 64 bytes.
const MAX_DERIVED_BYTES: usize = 64;

#[derive(Clone)]
pub(super) struct Argon2Fields {
    algorithm: Algorithm,
    version: Version,
    pub(super) memory_kib: u32,
    pub(super) iterations: u32,
    pub(super) lanes: u32,
    salt: Box<[u8]>,
    hash: Box<[u8]>,
}

/// `$argon2i$v=19$m=4096,t=3,p=1$<salt>$<hash>` (and `$argon2id$`; `v=` may be absent,
/// meaning version 16), salt and hash in unpadded base64. `wanted` is the variant a
/// `{CLERK:...}` label demands.
pub(super) fn parse_argon2(
    stored: &str,
    wanted: Option<Scheme>,
) -> Result<(Scheme, Kind), HashError> {
    const MALFORMED: HashError = HashError::Malformed("not a PHC argon2 string");
    let mut parts = stored.split('$');
    if parts.next() != Some("") {
        return Err(MALFORMED);
    }
    let (scheme, algorithm) = match parts.next() {
        Some("argon2i") => (Scheme::Argon2i, Algorithm::Argon2i),
        Some("argon2id") => (Scheme::Argon2id, Algorithm::Argon2id),
        Some("argon2d") => return Err(HashError::Unsupported("argon2d is not a password hash")),
        _ => return Err(MALFORMED),
    };
    if wanted.is_some_and(|w| w != scheme) {
        return Err(HashError::Malformed(
            "the {CLERK:...} hasher names a different argon2 variant than the string",
        ));
    }
    let mut field = parts.next().ok_or(MALFORMED)?;
    let version = match field.strip_prefix("v=") {
        Some("19") => {
            field = parts.next().ok_or(MALFORMED)?;
            Version::V0x13
        }
        Some("16") => {
            field = parts.next().ok_or(MALFORMED)?;
            Version::V0x10
        }
        Some(_) => return Err(HashError::Malformed("argon2 version is not 16 or 19")),
        None => Version::V0x10,
    };
    let (mut memory_kib, mut iterations, mut lanes) = (None, None, None);
    for pair in field.split(',') {
        let (key, value) = pair.split_once('=').ok_or(MALFORMED)?;
        let value = positive_decimal(value, u32::MAX).ok_or(HashError::Malformed(
            "argon2 parameter is not a positive number",
        ))?;
        let slot = match key {
            "m" => &mut memory_kib,
            "t" => &mut iterations,
            "p" => &mut lanes,
            _ => {
                return Err(HashError::Unsupported(
                    "argon2 string with parameters other than m, t, p (keyid, data)",
                ))
            }
        };
        if slot.replace(value).is_some() {
            return Err(HashError::Malformed("argon2 parameter given twice"));
        }
    }
    let (Some(memory_kib), Some(iterations), Some(lanes)) = (memory_kib, iterations, lanes) else {
        return Err(HashError::Malformed("argon2 string lacks one of m, t, p"));
    };
    let salt = parts
        .next()
        .and_then(b64_decode_unpadded)
        .ok_or(HashError::Malformed("argon2 salt is not unpadded base64"))?;
    let hash = parts
        .next()
        .and_then(b64_decode_unpadded)
        .ok_or(HashError::Malformed("argon2 hash is not unpadded base64"))?;
    if parts.next().is_some() {
        return Err(MALFORMED);
    }
    let fields = Argon2Fields {
        algorithm,
        version,
        memory_kib,
        iterations,
        lanes,
        salt: salt.into(),
        hash: hash.into(),
    };
    // What the argon2 crate would refuse (memory under 8 per lane, salt under 8 bytes, a hash
    // under 4 bytes) could never have been output.
    fields
        .hasher()
        .ok_or(HashError::Malformed("argon2 parameters out of range"))?;
    if fields.salt.len() < argon2::MIN_SALT_LEN {
        return Err(HashError::Malformed("argon2 salt is shorter than 8 bytes"));
    }
    Ok((scheme, Kind::Argon2(fields)))
}

impl Argon2Fields {
    fn hasher(&self) -> Option<Argon2<'static>> {
        let params = argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.lanes,
            Some(self.hash.len()),
        )
        .ok()?;
        Some(Argon2::new(self.algorithm, self.version, params))
    }

    pub(super) fn matches(&self, password: &[u8]) -> bool {
        let Some(hasher) = self.hasher() else {
            return false;
        };
        let mut out = vec![0u8; self.hash.len()];
        hasher
            .hash_password_into(password, &self.salt, &mut out)
            .is_ok()
            && constant_time_equal(&out, &self.hash)
    }
}

/// The PRF of a PBKDF2 scheme.
#[derive(Clone, Copy)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone)]
pub(super) struct Pbkdf2Fields {
    prf: Prf,
    pub(super) iterations: u32,
    salt: Box<[u8]>,
    hash: Box<[u8]>,
}

/// How a PBKDF2 scheme writes its salt and hash.
#[derive(Clone, Copy, PartialEq)]
enum Text {
    /// The text's own bytes.
    Raw,
    Hex,
    Base64,
    /// Hex when it is valid hex, else the text's bytes (Clerk's rule for `pbkdf2_sha1`).
    HexOrRaw,
}

fn decode(text: &str, how: Text) -> Option<Vec<u8>> {
    match how {
        Text::Raw => Some(text.as_bytes().to_vec()),
        Text::Hex => hex_decode(text),
        Text::Base64 => b64_decode(text),
        Text::HexOrRaw => hex_decode(text)
            .filter(|d| !d.is_empty())
            .or_else(|| Some(text.as_bytes().to_vec())),
    }
}

/// `<id>$<iterations>$<salt>$<hash>`, and for `pbkdf2_sha1` an optional `$<key length>`.
pub(super) fn parse_pbkdf2(scheme: Scheme, digest: &str) -> Result<Kind, HashError> {
    const MALFORMED: HashError =
        HashError::Malformed("not <id>$<iterations>$<salt>$<hash> of its PBKDF2 hasher");
    let (id, prf, salt_text, hash_text) = match scheme {
        Scheme::Pbkdf2Sha1 => ("pbkdf2_sha1", Prf::Sha1, Text::HexOrRaw, Text::Hex),
        Scheme::Pbkdf2Sha256 => ("pbkdf2_sha256", Prf::Sha256, Text::Base64, Text::Base64),
        Scheme::Pbkdf2Sha256Django => ("pbkdf2_sha256", Prf::Sha256, Text::Raw, Text::Base64),
        Scheme::Pbkdf2Sha512 => ("pbkdf2_sha512", Prf::Sha512, Text::Raw, Text::Hex),
        _ => ("pbkdf2_sha512_hex", Prf::Sha512, Text::Hex, Text::Hex),
    };
    let mut parts = digest.split('$');
    if parts.next() != Some(id) {
        return Err(MALFORMED);
    }
    let iterations = parts
        .next()
        .and_then(|n| positive_decimal(n, u32::MAX))
        .ok_or(HashError::Malformed(
            "PBKDF2 iterations is not a positive number",
        ))?;
    let (Some(salt), Some(hash)) = (parts.next(), parts.next()) else {
        return Err(MALFORMED);
    };
    let key_length = match (scheme, parts.next()) {
        (_, None) => None,
        (Scheme::Pbkdf2Sha1, Some(n)) => Some(positive_decimal(n, u32::MAX).ok_or(
            HashError::Malformed("PBKDF2 key length is not a positive number"),
        )?),
        _ => return Err(MALFORMED),
    };
    if parts.next().is_some() {
        return Err(MALFORMED);
    }
    let salt = decode(salt, salt_text).ok_or(HashError::Malformed(
        "PBKDF2 salt is not in its hasher's encoding",
    ))?;
    let hash = decode(hash, hash_text).ok_or(HashError::Malformed(
        "PBKDF2 hash is not in its hasher's encoding",
    ))?;
    // A shorter key is a prefix of the longer one, so a truncated hash would still verify:
    // each form has its fixed length (the PRF's output; Clerk's pbkdf2_sha1 also 32, its
    // default) unless it states the key length, which must then agree.
    let fits = match (prf, key_length) {
        (_, Some(n)) => usize::try_from(n).ok() == Some(hash.len()),
        (Prf::Sha1, None) => hash.len() == 20 || hash.len() == 32,
        (Prf::Sha256, None) => hash.len() == 32,
        (Prf::Sha512, None) => hash.len() == 64,
    };
    if !fits || hash.len() > MAX_DERIVED_BYTES {
        return Err(HashError::Malformed(
            "PBKDF2 hash is not of its hasher's key length",
        ));
    }
    Ok(Kind::Pbkdf2(Pbkdf2Fields {
        prf,
        iterations,
        salt: salt.into(),
        hash: hash.into(),
    }))
}

impl Pbkdf2Fields {
    pub(super) fn matches(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        match self.prf {
            Prf::Sha1 => {
                pbkdf2::pbkdf2_hmac::<Sha1>(password, &self.salt, self.iterations, &mut out)
            }
            Prf::Sha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, &self.salt, self.iterations, &mut out)
            }
            Prf::Sha512 => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, &self.salt, self.iterations, &mut out)
            }
        }
        constant_time_equal(&out, &self.hash)
    }
}

#[derive(Clone)]
pub(super) struct ScryptFields {
    pub(super) log_n: u8,
    pub(super) r: u32,
    pub(super) p: u32,
    salt: Box<[u8]>,
    hash: Box<[u8]>,
    /// Firebase: the hash is this key encrypted with AES-256-CTR under the scrypt output.
    signer_key: Option<Box<[u8]>>,
}

/// Firebase's 32-byte AES key comes from scrypt; werkzeug keeps hashlib's 64-byte default.
const FIREBASE_KEY_BYTES: usize = 32;
const WERKZEUG_KEY_BYTES: usize = 64;

/// Firebase: `<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>`, the first
/// four in base64. scrypt runs with N = 2^memory cost, r = rounds, p = 1 over the salt
/// followed by the separator.
pub(super) fn parse_firebase(digest: &str) -> Result<Kind, HashError> {
    let parts: Vec<&str> = digest.split('$').collect();
    let [hash, salt, signer_key, separator, rounds, memory_cost] = parts[..] else {
        return Err(HashError::Malformed(
            "scrypt_firebase value does not have six $-separated parts",
        ));
    };
    let b64 = |text: &str| {
        b64_decode(text).ok_or(HashError::Malformed(
            "scrypt_firebase hash, salt, signer key or separator is not base64",
        ))
    };
    let (hash, mut salt, signer_key, separator) =
        (b64(hash)?, b64(salt)?, b64(signer_key)?, b64(separator)?);
    if signer_key.is_empty() || hash.len() != signer_key.len() {
        return Err(HashError::Malformed(
            "scrypt_firebase hash is not as long as the signer key",
        ));
    }
    let r = positive_decimal(rounds, u32::MAX).ok_or(HashError::Malformed(
        "scrypt_firebase rounds is not a positive number",
    ))?;
    let log_n = positive_decimal(memory_cost, 63)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(HashError::Malformed(
            "scrypt_firebase memory cost is not 1..=63",
        ))?;
    salt.extend_from_slice(&separator);
    let fields = ScryptFields {
        log_n,
        r,
        p: 1,
        salt: salt.into(),
        hash: hash.into(),
        signer_key: Some(signer_key.into()),
    };
    fields.params()?;
    Ok(Kind::Scrypt(fields))
}

/// werkzeug: `scrypt:<N>:<r>:<p>$<salt>$<hex hash>` (plain `scrypt` means 32768:8:1), the
/// salt used as text, a 64-byte key.
pub(super) fn parse_werkzeug(digest: &str) -> Result<Kind, HashError> {
    const MALFORMED: HashError =
        HashError::Malformed("not werkzeug's scrypt:<N>:<r>:<p>$<salt>$<hex hash>");
    let mut parts = digest.split('$');
    let method = parts.next().ok_or(MALFORMED)?;
    let (n, r, p) = match method.split(':').collect::<Vec<_>>()[..] {
        ["scrypt"] => (32_768, 8, 1),
        ["scrypt", n, r, p] => {
            let number = |t: &str| positive_decimal(t, u32::MAX).ok_or(MALFORMED);
            (number(n)?, number(r)?, number(p)?)
        }
        _ => return Err(MALFORMED),
    };
    let (Some(salt), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(MALFORMED);
    };
    if !n.is_power_of_two() || n < 2 {
        return Err(HashError::Malformed(
            "werkzeug scrypt N is not a power of two",
        ));
    }
    let hash = hex_decode(hash)
        .filter(|h| h.len() == WERKZEUG_KEY_BYTES)
        .ok_or(HashError::Malformed(
            "werkzeug scrypt hash is not 128 hex digits",
        ))?;
    let fields = ScryptFields {
        // n is a power of two of a u32, so this is below 32.
        log_n: u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX),
        r,
        p,
        salt: salt.as_bytes().into(),
        hash: hash.into(),
        signer_key: None,
    };
    fields.params()?;
    Ok(Kind::Scrypt(fields))
}

impl ScryptFields {
    fn params(&self) -> Result<scrypt::Params, HashError> {
        // The length is the crate's PHC output length; `scrypt()` writes as many bytes as
        // its output buffer holds.
        scrypt::Params::new(self.log_n, self.r, self.p, FIREBASE_KEY_BYTES)
            .map_err(|_| HashError::Malformed("scrypt parameters out of range"))
    }

    pub(super) fn matches(&self, password: &[u8]) -> bool {
        let Ok(params) = self.params() else {
            return false;
        };
        match &self.signer_key {
            None => {
                let mut out = vec![0u8; self.hash.len()];
                scrypt::scrypt(password, &self.salt, &params, &mut out).is_ok()
                    && constant_time_equal(&out, &self.hash)
            }
            Some(signer_key) => {
                let mut key = [0u8; FIREBASE_KEY_BYTES];
                if scrypt::scrypt(password, &self.salt, &params, &mut key).is_err() {
                    return false;
                }
                let mut block = signer_key.to_vec();
                let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &[0u8; 16].into());
                cipher.apply_keystream(&mut block);
                constant_time_equal(&block, &self.hash)
            }
        }
    }
}
