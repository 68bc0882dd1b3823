//! Parsing stored crypt(3) strings into their fields, refusing anything glibc/libxcrypt
//! could not have produced, and telling which self-naming form a stored value is in.

use super::*;

/// Parses a stored value that names its hasher itself: RFC 2307 `{SSHA}` and friends, PHC
/// argon2, phpass, or a crypt(3) string with an optional Dovecot/OpenLDAP `{SCHEME}` prefix.
pub(super) fn parse_self_named(stored: &str) -> Result<(Scheme, Kind), HashError> {
    if let Some(parsed) = parse_rfc2307(stored)? {
        return Ok(parsed);
    }
    if stored.starts_with("$argon2") {
        return parse_argon2(stored, None);
    }
    if stored.starts_with("$P$") || stored.starts_with("$H$") {
        return parse_phpass(stored).map(|fields| (Scheme::Phpass, Kind::Phpass(fields)));
    }
    parse_crypt(stored)
}

/// The scheme a stored value's own identifier names, without checking the rest.
pub(super) fn self_named_scheme(stored: &str) -> Option<Scheme> {
    if let Some(scheme) = rfc2307_scheme(stored) {
        return Some(scheme);
    }
    let body = match split_scheme_prefix(stored) {
        Ok((Some(scheme), _)) => return Some(scheme),
        Ok((None, body)) => body,
        Err(_) => return None,
    };
    const IDS: [(&str, Scheme); 10] = [
        ("$6$", Scheme::Sha512Crypt),
        ("$5$", Scheme::Sha256Crypt),
        ("$1$", Scheme::Md5Crypt),
        ("$2a$", Scheme::Bcrypt),
        ("$2b$", Scheme::Bcrypt),
        ("$2x$", Scheme::Bcrypt),
        ("$2y$", Scheme::Bcrypt),
        ("$argon2id$", Scheme::Argon2id),
        ("$argon2i$", Scheme::Argon2i),
        ("$P$", Scheme::Phpass),
    ];
    if body.starts_with("$H$") {
        return Some(Scheme::Phpass);
    }
    IDS.iter()
        .find(|(id, _)| body.starts_with(id))
        .map(|&(_, scheme)| scheme)
}

fn parse_crypt(stored: &str) -> Result<(Scheme, Kind), HashError> {
    let (required, body) = split_scheme_prefix(stored)?;
    let (scheme, kind) = match (required, parse_body(body)) {
        (_, Ok(parsed)) => parsed,
        (None, Err(error)) | (Some(_), Err(error @ HashError::Malformed(_))) => return Err(error),
        // A prefix promising a scheme that the text is not: the value contradicts itself.
        (Some(_), Err(HashError::Unsupported(_))) => {
            return Err(HashError::Malformed(
                "the {scheme} prefix names a different scheme than the hash uses",
            ))
        }
    };
    match required {
        Some(wanted) if wanted != scheme => Err(HashError::Malformed(
            "the {scheme} prefix names a different scheme than the hash uses",
        )),
        _ => Ok((scheme, kind)),
    }
}

/// Returns the scheme demanded by a `{...}` prefix (`None` for no prefix or `{CRYPT}`) and
/// the text after it.
pub(super) fn split_scheme_prefix(stored: &str) -> Result<(Option<Scheme>, &str), HashError> {
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

fn parse_body(body: &str) -> Result<(Scheme, Kind), HashError> {
    if let Some(rest) = body.strip_prefix("$6$") {
        return parse_sha_fields(rest, SHA512_DIGEST_CHARS, SHA512_UNUSED_TAIL_BITS)
            .map(|fields| (Scheme::Sha512Crypt, Kind::Sha512(fields)));
    }
    if let Some(rest) = body.strip_prefix("$5$") {
        return parse_sha_fields(rest, SHA256_DIGEST_CHARS, SHA256_UNUSED_TAIL_BITS)
            .map(|fields| (Scheme::Sha256Crypt, Kind::Sha256(fields)));
    }
    if let Some(rest) = body.strip_prefix("$1$") {
        return parse_md5(rest).map(|kind| (Scheme::Md5Crypt, kind));
    }
    // $2x$ (hashes made by crypt_blowfish before 1.1, with its sign-extension bug) is
    // computed with that bug, as libxcrypt still does.
    if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| body.starts_with(prefix))
    {
        return parse_bcrypt(body, BcryptInput::Plain)
            .map(|fields| (Scheme::Bcrypt, Kind::Bcrypt(fields)));
    }
    Err(classify_unrecognised(body))
}

/// Parses what follows `$6$` / `$5$`: `[rounds=N$]salt$digest`.
pub(super) fn parse_sha_fields(
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
pub(super) fn parse_rounds(number: &str) -> Result<u32, HashError> {
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

pub(super) fn parse_md5(rest: &str) -> Result<Kind, HashError> {
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
pub(super) fn parse_bcrypt(body: &str, input: BcryptInput) -> Result<BcryptFields, HashError> {
    let bytes = body.as_bytes();
    if !matches!(bytes.get(..4), Some(b"$2a$" | b"$2b$" | b"$2x$" | b"$2y$")) {
        return Err(HashError::Malformed(
            "bcrypt hash does not start with $2a$, $2b$, $2x$ or $2y$",
        ));
    }
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
    BcryptFields::new(bytes[2], cost, &bytes[7..29], &bytes[29..], input)
}

/// Tells recognisable foreign schemes (reported as unsupported, so an operator knows a
/// migration is needed) apart from text that is no hash at all.
pub(super) fn classify_unrecognised(body: &str) -> HashError {
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

pub(super) fn in_alphabet(b: u8) -> bool {
    CRYPT_ALPHABET.contains(&b)
}

/// libxcrypt refuses settings containing control characters, spaces, non-ASCII bytes or any
/// of `!*:;\` (checked on this machine for every byte value), and never prints more salt
/// than the scheme uses.
pub(super) fn check_salt(salt: &[u8], max_len: usize) -> Result<(), HashError> {
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
pub(super) enum Field {
    Digest,
    BcryptSalt,
}

pub(super) fn check_base64(
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
