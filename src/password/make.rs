//! Making new hashes (`userstore-gateway hash --scheme NAME`): only schemes that are safe to
//! store today, at today's recommended costs, in the exact form the verifier reads.

use sha2::{Digest, Sha256, Sha512};

use super::codec::*;
use super::*;

/// Why no hash was made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MakeError {
    /// The scheme is weak, or needs inputs only its origin has (Firebase's signer key).
    #[error("{0} has no safe maker: verify such hashes, but make new ones with argon2id, bcrypt or sha512-crypt")]
    NoSafeMaker(&'static str),
    /// bcrypt reads only 72 bytes of a password, and none after a NUL.
    #[error(
        "bcrypt would ignore part of this password (longer than 72 bytes, or a NUL); use argon2id"
    )]
    BcryptWouldTruncate,
    /// crypt(3) strings cannot hold a password with a NUL.
    #[error("a password with a NUL character cannot be stored as a crypt(3) hash")]
    NulInPassword,
    /// The operating system's random number generator failed, so no safe salt exists.
    #[error("the operating system random number generator failed")]
    NoRandomness,
}

/// Costs of the makers, each the current recommendation of the scheme's origin or OWASP.
const BCRYPT_COST: u32 = 12;
/// RFC 9106 section 4, second recommended option: 64 MiB, 3 passes, 4 lanes.
const ARGON2_MEMORY_KIB: u32 = 65_536;
const ARGON2_ITERATIONS: u32 = 3;
const ARGON2_LANES: u32 = 4;
/// Django 5.2's default.
const DJANGO_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// OWASP's password storage cheat sheet, per PRF.
const PBKDF2_SHA1_ITERATIONS: u32 = 1_300_000;
const PBKDF2_SHA256_ITERATIONS: u32 = 600_000;
const PBKDF2_SHA512_ITERATIONS: u32 = 210_000;
/// werkzeug's default `scrypt` parameters.
const WERKZEUG_SCRYPT: (u32, u32, u32) = (32_768, 8, 1);

/// A new stored value for `password` in `scheme`, ready for the `password_hash` column.
pub fn make_hash(scheme: Scheme, password: &str) -> Result<String, MakeError> {
    let bytes = password.as_bytes();
    match scheme {
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => {
            if bytes.contains(&0) {
                return Err(MakeError::NulInPassword);
            }
            let salt = crypt_salt()?;
            let (id, digest) = if scheme == Scheme::Sha512Crypt {
                ("$6$", sha512_digest_text(bytes, &salt, Params::RECOMMENDED))
            } else {
                ("$5$", sha256_digest_text(bytes, &salt, Params::RECOMMENDED))
            };
            Ok(format!("{id}{}${}", ascii(&salt), ascii(&digest)))
        }
        Scheme::Bcrypt => {
            if bytes.len() >= 72 || bytes.contains(&0) {
                return Err(MakeError::BcryptWouldTruncate);
            }
            bcrypt::hash(bytes, BCRYPT_COST).map_err(|_| MakeError::NoRandomness)
        }
        Scheme::BcryptSha256Django => {
            let hex = hex_lower(&Sha256::digest(bytes));
            let inner = bcrypt::hash(hex, BCRYPT_COST).map_err(|_| MakeError::NoRandomness)?;
            Ok(format!(
                "{{CLERK:bcrypt_sha256_django}}bcrypt_sha256${inner}"
            ))
        }
        Scheme::Argon2i | Scheme::Argon2id => make_argon2(scheme, bytes),
        Scheme::Pbkdf2Sha1 => {
            let salt = random::<16>()?;
            let mut hash = [0u8; 20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(bytes, &salt, PBKDF2_SHA1_ITERATIONS, &mut hash);
            Ok(format!(
                "{{CLERK:pbkdf2_sha1}}pbkdf2_sha1${PBKDF2_SHA1_ITERATIONS}${}${}",
                hex_lower(&salt),
                hex_lower(&hash)
            ))
        }
        Scheme::Pbkdf2Sha256 => {
            let salt = random::<16>()?;
            let mut hash = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(bytes, &salt, PBKDF2_SHA256_ITERATIONS, &mut hash);
            Ok(format!(
                "{{CLERK:pbkdf2_sha256}}pbkdf2_sha256${PBKDF2_SHA256_ITERATIONS}${}${}",
                b64_encode(&salt),
                b64_encode(&hash)
            ))
        }
        Scheme::Pbkdf2Sha256Django => {
            let salt = text_salt(22)?;
            let mut hash = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(
                bytes,
                salt.as_bytes(),
                DJANGO_PBKDF2_ITERATIONS,
                &mut hash,
            );
            Ok(format!(
                "{{CLERK:pbkdf2_sha256_django}}pbkdf2_sha256${DJANGO_PBKDF2_ITERATIONS}${salt}${}",
                b64_encode(&hash)
            ))
        }
        Scheme::Pbkdf2Sha512 | Scheme::Pbkdf2Sha512Hex => {
            let hex_salt = scheme == Scheme::Pbkdf2Sha512Hex;
            let salt = if hex_salt {
                hex_lower(&random::<16>()?)
            } else {
                text_salt(22)?
            };
            let salt_bytes = if hex_salt {
                hex_decode(&salt).unwrap_or_default()
            } else {
                salt.clone().into_bytes()
            };
            let mut hash = [0u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(bytes, &salt_bytes, PBKDF2_SHA512_ITERATIONS, &mut hash);
            let name = scheme.name();
            Ok(format!(
                "{{CLERK:{name}}}{name}${PBKDF2_SHA512_ITERATIONS}${salt}${}",
                hex_lower(&hash)
            ))
        }
        Scheme::ScryptWerkzeug => {
            let (n, r, p) = WERKZEUG_SCRYPT;
            let salt = text_salt(16)?;
            // n is a power of two below 2^32, so its log fits a u8.
            let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(15);
            let params =
                scrypt::Params::new(log_n, r, p, 64).map_err(|_| MakeError::NoRandomness)?;
            let mut hash = [0u8; 64];
            scrypt::scrypt(bytes, salt.as_bytes(), &params, &mut hash)
                .map_err(|_| MakeError::NoRandomness)?;
            Ok(format!(
                "{{CLERK:scrypt_werkzeug}}scrypt:{n}:{r}:{p}${salt}${}",
                hex_lower(&hash)
            ))
        }
        other => Err(MakeError::NoSafeMaker(other.name())),
    }
}

fn make_argon2(scheme: Scheme, password: &[u8]) -> Result<String, MakeError> {
    let algorithm = if scheme == Scheme::Argon2i {
        argon2::Algorithm::Argon2i
    } else {
        argon2::Algorithm::Argon2id
    };
    let salt = random::<16>()?;
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, Some(32))
        .map_err(|_| MakeError::NoRandomness)?;
    let mut hash = [0u8; 32];
    argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password_into(password, &salt, &mut hash)
        .map_err(|_| MakeError::NoRandomness)?;
    let unpadded = |b: &[u8]| b64_encode(b).trim_end_matches('=').to_owned();
    Ok(format!(
        "${}$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_ITERATIONS},p={ARGON2_LANES}${}${}",
        scheme.name(),
        unpadded(&salt),
        unpadded(&hash)
    ))
}

/// A new `$6$` hash with a random 16-character salt and the default 5000 rounds.
///
/// # Panics
/// If the operating system's random number generator fails, since no safe salt exists then,
/// or if the password contains a NUL.
#[must_use]
pub fn hash_sha512(password: &str) -> String {
    match make_hash(Scheme::Sha512Crypt, password) {
        Ok(hash) => hash,
        Err(err) => panic!("{err}"),
    }
}

fn random<const N: usize>() -> Result<[u8; N], MakeError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| MakeError::NoRandomness)?;
    Ok(bytes)
}

/// 16 characters drawn directly from the crypt alphabet (glibc reads at most 16, and
/// `sha_crypt`'s own 22-character salts would be cut and then fail to reproduce). 256 is a
/// multiple of 64, so masking keeps every character equally likely.
fn crypt_salt() -> Result<Vec<u8>, MakeError> {
    Ok(random::<SHA_MAX_SALT>()?
        .iter()
        .map(|byte| CRYPT_ALPHABET[usize::from(byte & 0x3f)])
        .collect())
}

/// Letters and digits, as Django's and werkzeug's salts are; bytes of 248 and above are
/// drawn again so that every character is equally likely.
fn text_salt(len: usize) -> Result<String, MakeError> {
    const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random::<32>()? {
            if byte < 248 && out.len() < len {
                out.push(char::from(ALNUM[usize::from(byte % 62)]));
            }
        }
    }
    Ok(out)
}

fn ascii(text: &[u8]) -> String {
    text.iter().map(|&b| char::from(b)).collect()
}
