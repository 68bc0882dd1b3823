//! `{CLERK:<hasher>}<digest>`: a stored value naming one of the hashers Clerk documents for
//! its `password_hasher` field, followed by Clerk's `password_digest` in the form Clerk
//! documents for that hasher.

use super::*;

const LABEL: &str = "{CLERK:";

/// `Ok(Some((hasher, digest)))` for a `{CLERK:...}` value, `Ok(None)` for any other value.
pub(super) fn split_label(stored: &str) -> Result<Option<(&str, &str)>, HashError> {
    let Some(label) = stored.get(..LABEL.len()) else {
        return Ok(None);
    };
    if !label.eq_ignore_ascii_case(LABEL) {
        return Ok(None);
    }
    stored[LABEL.len()..]
        .split_once('}')
        .map(Some)
        .ok_or(HashError::Malformed("unterminated {CLERK:...} label"))
}

/// Reads `digest` in the form Clerk documents for `hasher`.
pub(super) fn parse(
    hasher: &str,
    digest: &str,
    pepper: Option<&[u8]>,
) -> Result<(Scheme, Kind), HashError> {
    if hasher.eq_ignore_ascii_case("awscognito") {
        return Err(HashError::Unsupported(
            "awscognito digests can only be checked by AWS Cognito itself",
        ));
    }
    let scheme = Scheme::from_name(hasher).ok_or(HashError::Unsupported(
        "{CLERK:...} names a hasher that Clerk does not document",
    ))?;
    let kind = match scheme {
        Scheme::Bcrypt => Kind::Bcrypt(parse_bcrypt(digest, BcryptInput::Plain)?),
        Scheme::BcryptSha256Django => {
            let bcrypt = digest
                .strip_prefix("bcrypt_sha256$")
                .ok_or(HashError::Malformed(
                    "bcrypt_sha256_django digest does not start with bcrypt_sha256$",
                ))?;
            Kind::Bcrypt(parse_bcrypt(bcrypt, BcryptInput::Sha256Hex)?)
        }
        Scheme::BcryptPeppered => parse_peppered(digest, pepper)?,
        Scheme::Argon2i | Scheme::Argon2id => parse_argon2(digest, Some(scheme))?.1,
        Scheme::Pbkdf2Sha1
        | Scheme::Pbkdf2Sha256
        | Scheme::Pbkdf2Sha256Django
        | Scheme::Pbkdf2Sha512
        | Scheme::Pbkdf2Sha512Hex => parse_pbkdf2(scheme, digest)?,
        Scheme::Phpass => Kind::Phpass(parse_phpass(digest)?),
        Scheme::ScryptFirebase => parse_firebase(digest)?,
        Scheme::ScryptWerkzeug => parse_werkzeug(digest)?,
        Scheme::LdapSha | Scheme::LdapSsha | Scheme::LdapSsha256 | Scheme::LdapSsha512 => {
            let (named, kind) = parse_rfc2307(digest)?.ok_or(HashError::Malformed(
                "ldap_ssha digest does not start with {SSHA}, {SHA}, {SSHA256} or {SSHA512}",
            ))?;
            return Ok((named, kind));
        }
        Scheme::Sha512Symfony => parse_symfony(digest)?,
        Scheme::Md5 | Scheme::Md5Salted | Scheme::Sha256 | Scheme::Sha256Salted => {
            parse_hex_digest(scheme, digest)?
        }
        Scheme::Sha512Crypt | Scheme::Sha256Crypt | Scheme::Md5Crypt => {
            return Err(HashError::Unsupported(
                "{CLERK:...} names a hasher that Clerk does not document",
            ))
        }
    };
    Ok((scheme, kind))
}

/// `$2b$10$<53 characters>` with the configured pepper, or Clerk's
/// `$2b$10$<53 characters>$<pepper>` carrying its own.
fn parse_peppered(digest: &str, configured: Option<&[u8]>) -> Result<Kind, HashError> {
    let (bcrypt, inline) =
        match digest.get(BCRYPT_HASH_CHARS..) {
            Some("") | None => (digest, None),
            Some(rest) => {
                let pepper = rest.strip_prefix('$').filter(|p| !p.is_empty()).ok_or(
                    HashError::Malformed("bcrypt_peppered digest is not $2?$NN$<53>[$<pepper>]"),
                )?;
                (&digest[..BCRYPT_HASH_CHARS], Some(pepper.as_bytes()))
            }
        };
    let pepper = inline.or(configured).ok_or(HashError::Unsupported(
        "bcrypt_peppered digest without a pepper, and no [hashing] bcrypt_pepper is set",
    ))?;
    Ok(Kind::Bcrypt(parse_bcrypt(
        bcrypt,
        BcryptInput::Peppered(pepper.into()),
    )?))
}
