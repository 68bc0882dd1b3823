//! Fast digests and loops of them: the unsalted and salted MD5/SHA-256 hex digests, RFC 2307
//! `{SHA}`/`{SSHA}` and their SHA-2 siblings, phpass, and Symfony's legacy digest loop.
//!
//! All of them are weak; they are verified so that users can log in once and be moved to a
//! better hash, not recommended. None has a maker.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

use super::codec::*;
use super::*;

/// The digest function of a [`DigestFields`] or [`SymfonyFields`].
#[derive(Clone, Copy)]
pub(super) enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Algo {
    fn len(self) -> usize {
        match self {
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
            Algo::Sha256 => 32,
            Algo::Sha512 => 64,
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            parts.iter().for_each(|p| d.update(p));
            d.finalize().to_vec()
        }
        match self {
            Algo::Md5 => run::<Md5>(parts),
            Algo::Sha1 => run::<Sha1>(parts),
            Algo::Sha256 => run::<Sha256>(parts),
            Algo::Sha512 => run::<Sha512>(parts),
        }
    }
}

/// One digest of the password followed by a salt (which may be empty).
#[derive(Clone)]
pub(super) struct DigestFields {
    algo: Algo,
    salt: Box<[u8]>,
    digest: Box<[u8]>,
}

impl DigestFields {
    pub(super) fn matches(&self, password: &[u8]) -> bool {
        constant_time_equal(&self.algo.digest(&[password, &self.salt]), &self.digest)
    }
}

/// An RFC 2307 style label, its scheme, its digest, and whether a salt follows the digest.
type Rfc2307Label = (&'static str, Scheme, Algo, bool);

/// The RFC 2307 style labels and what follows each in the base64 text.
const RFC2307: [Rfc2307Label; 4] = [
    ("{SHA}", Scheme::LdapSha, Algo::Sha1, false),
    ("{SSHA}", Scheme::LdapSsha, Algo::Sha1, true),
    ("{SSHA256}", Scheme::LdapSsha256, Algo::Sha256, true),
    ("{SSHA512}", Scheme::LdapSsha512, Algo::Sha512, true),
];

fn rfc2307_label(stored: &str) -> Option<(&'static Rfc2307Label, &str)> {
    RFC2307.iter().find_map(|entry| {
        let label = stored.get(..entry.0.len())?;
        label
            .eq_ignore_ascii_case(entry.0)
            .then(|| (entry, &stored[entry.0.len()..]))
    })
}

pub(super) fn rfc2307_scheme(stored: &str) -> Option<Scheme> {
    rfc2307_label(stored).map(|(entry, _)| entry.1)
}

/// `{SSHA}base64(SHA1(password + salt) + salt)`, `{SHA}base64(SHA1(password))`, and the same
/// with SHA-256/512 (OpenLDAP's contrib `pw-sha2`). `Ok(None)`: not one of these labels.
pub(super) fn parse_rfc2307(stored: &str) -> Result<Option<(Scheme, Kind)>, HashError> {
    let Some((&(_, scheme, algo, salted), body)) = rfc2307_label(stored) else {
        return Ok(None);
    };
    let bytes = b64_decode(body).ok_or(HashError::Malformed("{SSHA}-style value is not base64"))?;
    let fits = if salted {
        bytes.len() > algo.len()
    } else {
        bytes.len() == algo.len()
    };
    if !fits {
        return Err(HashError::Malformed(
            "{SSHA}-style value has the wrong length for its digest",
        ));
    }
    let (digest, salt) = bytes.split_at(algo.len());
    Ok(Some((
        scheme,
        Kind::Digest(DigestFields {
            algo,
            salt: salt.into(),
            digest: digest.into(),
        }),
    )))
}

/// Clerk's `md5`, `sha256` (hex) and `md5_salted`, `sha256_salted` (`salt$hex`, the digest
/// of the password followed by the salt).
pub(super) fn parse_hex_digest(scheme: Scheme, digest: &str) -> Result<Kind, HashError> {
    let (algo, salted) = match scheme {
        Scheme::Md5 => (Algo::Md5, false),
        Scheme::Md5Salted => (Algo::Md5, true),
        Scheme::Sha256 => (Algo::Sha256, false),
        _ => (Algo::Sha256, true),
    };
    let (salt, hex) = if salted {
        digest
            .rsplit_once('$')
            .ok_or(HashError::Malformed("salted digest is not salt$hash"))?
    } else {
        ("", digest)
    };
    let digest = hex_decode(hex)
        .filter(|d| d.len() == algo.len())
        .ok_or(HashError::Malformed(
            "digest is not hex of its function's length",
        ))?;
    Ok(Kind::Digest(DigestFields {
        algo,
        salt: salt.as_bytes().into(),
        digest: digest.into(),
    }))
}

/// phpass's portable hash (`$P$`, and phpBB's `$H$`): MD5 of salt and password, then 2^n
/// times MD5 of the previous digest and the password.
#[derive(Clone)]
pub(super) struct PhpassFields {
    pub(super) log2_count: u32,
    salt: [u8; 8],
    /// The 22 stored digest characters.
    digest: Box<[u8]>,
}

/// phpass accepts counts 2^7 to 2^30.
const PHPASS_LOG2_RANGE: std::ops::RangeInclusive<u32> = 7..=30;
const PHPASS_CHARS: usize = 34;

pub(super) fn parse_phpass(stored: &str) -> Result<PhpassFields, HashError> {
    let bytes = stored.as_bytes();
    if !(bytes.starts_with(b"$P$") || bytes.starts_with(b"$H$")) {
        return Err(HashError::Malformed(
            "phpass hash does not start with $P$ or $H$",
        ));
    }
    if bytes.len() != PHPASS_CHARS {
        return Err(HashError::Malformed(
            "phpass hash is not 34 characters long",
        ));
    }
    let log2_count = CRYPT_ALPHABET
        .iter()
        .position(|c| *c == bytes[3])
        .and_then(|p| u32::try_from(p).ok())
        .filter(|n| PHPASS_LOG2_RANGE.contains(n))
        .ok_or(HashError::Malformed("phpass count is outside 2^7..=2^30"))?;
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&bytes[4..12]);
    // phpass prints 16 bytes as 22 characters; the last carries 2 bits.
    check_base64(&bytes[12..], 22, CRYPT_ALPHABET, 0b11_1100, Field::Digest)?;
    Ok(PhpassFields {
        log2_count,
        salt,
        digest: bytes[12..].into(),
    })
}

impl PhpassFields {
    #[cfg(test)]
    pub(super) fn for_tests(log2_count: u32, salt: [u8; 8]) -> Self {
        Self {
            log2_count,
            salt,
            digest: Box::default(),
        }
    }

    pub(super) fn matches(&self, password: &[u8]) -> bool {
        constant_time_equal(&self.digest_text(password), &self.digest)
    }

    pub(super) fn digest_text(&self, password: &[u8]) -> Vec<u8> {
        let mut sum: [u8; 16] = Md5::new()
            .chain_update(self.salt)
            .chain_update(password)
            .finalize()
            .into();
        for _ in 0..(1u64 << self.log2_count) {
            sum = Md5::new()
                .chain_update(sum)
                .chain_update(password)
                .finalize()
                .into();
        }
        // Little-endian groups of three bytes, as md5-crypt's encoder but without shuffling.
        let mut text = Vec::with_capacity(22);
        for group in sum.chunks(3) {
            match *group {
                [low, mid, high] => push_crypt_base64(&mut text, high, mid, low, 4),
                [low] => push_crypt_base64(&mut text, 0, 0, low, 2),
                _ => {}
            }
        }
        text
    }
}

/// Symfony's `MessageDigestPasswordEncoder` (SHA-512): `salted = password{salt}` (just the
/// password when the salt is empty or "0", which PHP counts as false), `d = H(salted)`, then `iterations - 1` times
/// `d = H(d + salted)`, printed in base64.
#[derive(Clone)]
pub(super) struct SymfonyFields {
    pub(super) iterations: u32,
    salted_suffix: Box<[u8]>,
    digest: Box<[u8]>,
}

/// `sha512_symfony$<iterations>$<salt>$<base64 hash>`; the salt may itself contain `$`.
pub(super) fn parse_symfony(digest: &str) -> Result<Kind, HashError> {
    const MALFORMED: HashError =
        HashError::Malformed("not sha512_symfony$<iterations>$<salt>$<base64 hash>");
    let rest = digest.strip_prefix("sha512_symfony$").ok_or(MALFORMED)?;
    let (iterations, rest) = rest.split_once('$').ok_or(MALFORMED)?;
    let (salt, hash) = rest.rsplit_once('$').ok_or(MALFORMED)?;
    let iterations = positive_decimal(iterations, u32::MAX).ok_or(HashError::Malformed(
        "sha512_symfony iterations is not a positive number",
    ))?;
    // Symfony refuses salts with braces: they would make `password{salt}` ambiguous.
    if salt.contains(['{', '}']) {
        return Err(HashError::Malformed("sha512_symfony salt contains a brace"));
    }
    let digest = b64_decode(hash)
        .filter(|d| d.len() == Algo::Sha512.len())
        .ok_or(HashError::Malformed(
            "sha512_symfony hash is not base64 of 64 bytes",
        ))?;
    // PHP's `if (!$salt)` is true for "" and for "0": neither adds braces.
    let salted_suffix = if salt.is_empty() || salt == "0" {
        Vec::new()
    } else {
        format!("{{{salt}}}").into_bytes()
    };
    Ok(Kind::Symfony(SymfonyFields {
        iterations,
        salted_suffix: salted_suffix.into(),
        digest: digest.into(),
    }))
}

impl SymfonyFields {
    pub(super) fn matches(&self, password: &[u8]) -> bool {
        let mut d: [u8; 64] = Sha512::new()
            .chain_update(password)
            .chain_update(&self.salted_suffix)
            .finalize()
            .into();
        for _ in 1..self.iterations {
            d = Sha512::new()
                .chain_update(d)
                .chain_update(password)
                .chain_update(&self.salted_suffix)
                .finalize()
                .into();
        }
        constant_time_equal(&d, &self.digest)
    }
}
