//! The bcrypt family: plain bcrypt (`$2a$`, `$2b$`, `$2y$`, and `$2x$` with crypt_blowfish's
//! old sign-extension bug), Django's `bcrypt_sha256`, and bcrypt with a pepper (Devise).
//!
//! The Eksblowfish work is the `bcrypt` crate's; this file only builds the 72-byte key it
//! is given, which is where the variants differ.

use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use base64::{alphabet, Engine};
use sha2::{Digest, Sha256};

use super::codec::hex_lower;
use super::*;

/// bcrypt's own base64 (no padding). Decoding refuses stray low bits in the last character,
/// which [`check_base64`] has refused already.
const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(&alphabet::BCRYPT, NO_PAD);
/// bcrypt reads at most this many key bytes (including the terminating NUL).
const BCRYPT_KEY_BYTES: usize = 72;
/// bcrypt prints 23 of the 24 bytes it computes.
const BCRYPT_DIGEST_BYTES: usize = 23;

/// What is fed to bcrypt instead of the password itself.
#[derive(Clone)]
pub(super) enum BcryptInput {
    /// The password.
    Plain,
    /// The lowercase hex SHA-256 of the password (Django's `bcrypt_sha256`).
    Sha256Hex,
    /// The password followed by this pepper (Devise's `pepper`).
    Peppered(Box<[u8]>),
}

#[derive(Clone)]
pub(super) struct BcryptFields {
    /// `a`, `b`, `x` or `y`.
    minor: u8,
    pub(super) cost: u32,
    salt: [u8; 16],
    /// The 31 stored digest characters.
    digest: Box<[u8]>,
    input: BcryptInput,
}

impl BcryptFields {
    /// From fields [`parse_bcrypt`] has checked character by character.
    pub(super) fn new(
        minor: u8,
        cost: u32,
        salt_text: &[u8],
        digest_text: &[u8],
        input: BcryptInput,
    ) -> Result<Self, HashError> {
        let mut salt = [0u8; 16];
        match BCRYPT_B64.decode_slice(salt_text, &mut salt) {
            Ok(16) => {}
            _ => {
                return Err(HashError::Malformed(
                    "bcrypt salt does not decode to 16 bytes",
                ))
            }
        }
        Ok(Self {
            minor,
            cost,
            salt,
            digest: digest_text.into(),
            input,
        })
    }

    /// A `$2b$` decoy of the given cost, clamped into 4..=31.
    pub(super) fn decoy(cost: u32) -> Self {
        let mut salt = [0u8; 16];
        // The fixed text is valid bcrypt base64 of 16 bytes.
        let _ = BCRYPT_B64.decode_slice(DECOY_BCRYPT_SALT, &mut salt);
        Self {
            minor: b'b',
            cost: cost.clamp(BCRYPT_MIN_COST, BCRYPT_MAX_COST),
            salt,
            digest: vec![b'.'; 31].into(),
            input: BcryptInput::Plain,
        }
    }

    /// The password reaches bcrypt as a C string (so a NUL could never be part of it).
    pub(super) fn c_string_input(&self) -> bool {
        !matches!(self.input, BcryptInput::Sha256Hex)
    }

    pub(super) fn matches(&self, password: &[u8]) -> bool {
        let key = match &self.input {
            BcryptInput::Plain => self.key(password),
            BcryptInput::Sha256Hex => {
                let hex = hex_lower(&Sha256::digest(password));
                self.key(hex.as_bytes())
            }
            BcryptInput::Peppered(pepper) => {
                let mut joined = Vec::with_capacity(password.len() + pepper.len());
                joined.extend_from_slice(password);
                joined.extend_from_slice(pepper);
                self.key(&joined)
            }
        };
        let raw = bcrypt::bcrypt(self.cost, self.salt, &key);
        let text = BCRYPT_B64.encode(&raw[..BCRYPT_DIGEST_BYTES]);
        constant_time_equal(text.as_bytes(), &self.digest)
    }

    /// The 72 bytes bcrypt's key schedule reads: the password and its NUL, repeated, taken
    /// four bytes to a big-endian word. `$2x$` builds each word with the bytes sign-extended,
    /// as crypt_blowfish did before 1.1 (so an 8-bit byte smears ones over the bytes before
    /// it in the word); the other prefixes build it correctly. The `$2a$` countermeasure of
    /// crypt_blowfish 1.1 only changes passwords containing byte 0xFF, which UTF-8 never has.
    fn key(&self, password: &[u8]) -> [u8; BCRYPT_KEY_BYTES] {
        let stream = password.iter().copied().chain([0u8]).cycle();
        let mut key = [0u8; BCRYPT_KEY_BYTES];
        if self.minor != b'x' {
            key.iter_mut().zip(stream).for_each(|(k, b)| *k = b);
            return key;
        }
        let mut bytes = stream;
        for word_bytes in key.chunks_exact_mut(4) {
            let mut word: u32 = 0;
            for _ in 0..4 {
                let byte = bytes.next().unwrap_or(0);
                // Sign extension: the bug being reproduced.
                let extended = i32::from(byte as i8) as u32;
                word = (word << 8) | extended;
            }
            word_bytes.copy_from_slice(&word.to_be_bytes());
        }
        key
    }
}
