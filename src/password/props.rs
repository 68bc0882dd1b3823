//! Property tests over every verifiable scheme: the right password verifies, no other does,
//! a truncated, padded or mutated digest never verifies (and never panics), and costs over
//! the caps are refused before any work.
//!
//! The hashes here are built at the lowest costs from the RustCrypto primitives, so that
//! many cases run quickly; the known answers that pin each scheme to its reference
//! implementation are in `kat.rs`.

use std::ops::Range;

use proptest::prelude::*;
use sha2::{Digest, Sha256, Sha512};

use super::codec::*;
use super::*;

/// What [`cheap`] makes: the stored value and where in it the hash itself is written.
struct Made {
    stored: String,
    hash_at: Range<usize>,
}

fn ended_by(prefix: String, hash: &str) -> Made {
    let start = prefix.len();
    Made {
        stored: format!("{prefix}{hash}"),
        hash_at: start..start + hash.len(),
    }
}

/// A stored value of `scheme` for `password` at the scheme's lowest cost.
fn cheap(scheme: Scheme, password: &str) -> Made {
    let pw = password.as_bytes();
    let salt = b"NaClNaClNaClNaCl";
    match scheme {
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => {
            let params = Params::new(1000).unwrap();
            let (id, digest) = if scheme == Scheme::Sha512Crypt {
                (
                    "$6$rounds=1000$",
                    sha512_digest_text(pw, b"propsalt", params),
                )
            } else {
                (
                    "$5$rounds=1000$",
                    sha256_digest_text(pw, b"propsalt", params),
                )
            };
            ended_by(
                format!("{id}propsalt$"),
                std::str::from_utf8(&digest).unwrap(),
            )
        }
        Scheme::Md5Crypt => ended_by(
            "$1$propsalt$".into(),
            std::str::from_utf8(&md5_digest_text(pw, b"propsalt")).unwrap(),
        ),
        Scheme::Bcrypt | Scheme::BcryptSha256Django | Scheme::BcryptPeppered => {
            let input: Vec<u8> = match scheme {
                Scheme::Bcrypt => pw.to_vec(),
                Scheme::BcryptSha256Django => hex_lower(&Sha256::digest(pw)).into_bytes(),
                _ => [pw, PEPPER].concat(),
            };
            let text = bcrypt::hash_with_salt(&input, 4, *salt)
                .unwrap()
                .format_for_version(bcrypt::Version::TwoB);
            let (setting, hash) = text.split_at(29);
            let prefix = match scheme {
                Scheme::Bcrypt => String::new(),
                Scheme::BcryptSha256Django => "{CLERK:bcrypt_sha256_django}bcrypt_sha256$".into(),
                _ => "{CLERK:bcrypt_peppered}".into(),
            };
            ended_by(format!("{prefix}{setting}"), hash)
        }
        Scheme::Argon2i | Scheme::Argon2id => {
            let algorithm = if scheme == Scheme::Argon2i {
                argon2::Algorithm::Argon2i
            } else {
                argon2::Algorithm::Argon2id
            };
            let params = argon2::Params::new(8, 1, 1, Some(32)).unwrap();
            let mut out = [0u8; 32];
            argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
                .hash_password_into(pw, salt, &mut out)
                .unwrap();
            let unpadded = |b: &[u8]| b64_encode(b).trim_end_matches('=').to_owned();
            ended_by(
                format!("${}$v=19$m=8,t=1,p=1${}$", scheme.name(), unpadded(salt)),
                &unpadded(&out),
            )
        }
        Scheme::Pbkdf2Sha1 => {
            let mut out = [0u8; 20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, b"propsalt", 2, &mut out);
            ended_by(
                "{CLERK:pbkdf2_sha1}pbkdf2_sha1$2$propsalt$".into(),
                &hex_lower(&out),
            )
        }
        Scheme::Pbkdf2Sha256 | Scheme::Pbkdf2Sha256Django => {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(pw, salt, 2, &mut out);
            let prefix = if scheme == Scheme::Pbkdf2Sha256 {
                format!(
                    "{{CLERK:pbkdf2_sha256}}pbkdf2_sha256$2${}$",
                    b64_encode(salt)
                )
            } else {
                "{CLERK:pbkdf2_sha256_django}pbkdf2_sha256$2$NaClNaClNaClNaCl$".into()
            };
            ended_by(prefix, &b64_encode(&out))
        }
        Scheme::Pbkdf2Sha512 | Scheme::Pbkdf2Sha512Hex => {
            let mut out = [0u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(pw, salt, 2, &mut out);
            let prefix = if scheme == Scheme::Pbkdf2Sha512 {
                "{CLERK:pbkdf2_sha512}pbkdf2_sha512$2$NaClNaClNaClNaCl$".into()
            } else {
                format!(
                    "{{CLERK:pbkdf2_sha512_hex}}pbkdf2_sha512_hex$2${}$",
                    hex_lower(salt)
                )
            };
            ended_by(prefix, &hex_lower(&out))
        }
        Scheme::Phpass => {
            let fields = PhpassFields::for_tests(7, *b"propsalt");
            let text = fields.digest_text(pw);
            ended_by("$P$5propsalt".into(), std::str::from_utf8(&text).unwrap())
        }
        Scheme::ScryptFirebase => {
            use aes::cipher::{KeyIvInit, StreamCipher};
            let signer = [7u8; 64];
            let mut key = [0u8; 32];
            let salted = [salt.as_slice(), b"\x07"].concat();
            scrypt::scrypt(
                pw,
                &salted,
                &scrypt::Params::new(1, 1, 1, 32).unwrap(),
                &mut key,
            )
            .unwrap();
            let mut hash = signer;
            ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &[0u8; 16].into())
                .apply_keystream(&mut hash);
            let hash = b64_encode(&hash);
            let stored = format!(
                "{{CLERK:scrypt_firebase}}{hash}${}${}$Bw==$1$1",
                b64_encode(salt),
                b64_encode(&signer)
            );
            let start = "{CLERK:scrypt_firebase}".len();
            Made {
                stored,
                hash_at: start..start + hash.len(),
            }
        }
        Scheme::ScryptWerkzeug => {
            let mut out = [0u8; 64];
            scrypt::scrypt(
                pw,
                b"propsalt",
                &scrypt::Params::new(1, 1, 1, 32).unwrap(),
                &mut out,
            )
            .unwrap();
            ended_by(
                "{CLERK:scrypt_werkzeug}scrypt:2:1:1$propsalt$".into(),
                &hex_lower(&out),
            )
        }
        Scheme::LdapSha | Scheme::LdapSsha | Scheme::LdapSsha256 | Scheme::LdapSsha512 => {
            let (label, digest, salt): (&str, Vec<u8>, &[u8]) = match scheme {
                Scheme::LdapSha => ("{SHA}", sha1::Sha1::digest(pw).to_vec(), b""),
                Scheme::LdapSsha => (
                    "{SSHA}",
                    sha1::Sha1::new()
                        .chain_update(pw)
                        .chain_update(b"salt")
                        .finalize()
                        .to_vec(),
                    b"salt",
                ),
                Scheme::LdapSsha256 => (
                    "{SSHA256}",
                    Sha256::new()
                        .chain_update(pw)
                        .chain_update(b"salt")
                        .finalize()
                        .to_vec(),
                    b"salt",
                ),
                _ => (
                    "{SSHA512}",
                    Sha512::new()
                        .chain_update(pw)
                        .chain_update(b"salt")
                        .finalize()
                        .to_vec(),
                    b"salt",
                ),
            };
            ended_by(
                label.into(),
                &b64_encode(&[digest.as_slice(), salt].concat()),
            )
        }
        Scheme::Sha512Symfony => {
            let salted = [pw, b"{salt}".as_slice()].concat();
            let mut d = Sha512::digest(&salted).to_vec();
            d = Sha512::new()
                .chain_update(&d)
                .chain_update(&salted)
                .finalize()
                .to_vec();
            ended_by(
                "{CLERK:sha512_symfony}sha512_symfony$2$salt$".into(),
                &b64_encode(&d),
            )
        }
        Scheme::Md5 => ended_by("{CLERK:md5}".into(), &hex_lower(&md5::Md5::digest(pw))),
        Scheme::Sha256 => ended_by("{CLERK:sha256}".into(), &hex_lower(&Sha256::digest(pw))),
        Scheme::Md5Salted => {
            let d = md5::Md5::new()
                .chain_update(pw)
                .chain_update(b"salt")
                .finalize();
            ended_by("{CLERK:md5_salted}salt$".into(), &hex_lower(&d))
        }
        Scheme::Sha256Salted => {
            let d = Sha256::new()
                .chain_update(pw)
                .chain_update(b"salt")
                .finalize();
            ended_by("{CLERK:sha256_salted}salt$".into(), &hex_lower(&d))
        }
    }
}

/// The pepper of the `bcrypt_peppered` values, as if configured.
const PEPPER: &[u8] = b"pepper";

fn parse(stored: &str) -> Result<StoredHash, HashError> {
    StoredHash::parse_with_pepper(stored, Some(PEPPER))
}

fn verdict(stored: &str, password: &str) -> Option<Verdict> {
    parse(stored)
        .ok()
        .map(|hash| hash.verify(password, &Limits::default()))
}

fn any_scheme() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(Scheme::ALL.to_vec())
}

/// Passwords of printable ASCII and a few non-ASCII letters, never with NUL.
fn password() -> impl Strategy<Value = String> {
    "[ -~äöü€✓]{0,24}"
}

#[test]
fn every_scheme_verifies_what_it_made() {
    for scheme in Scheme::ALL {
        let made = cheap(scheme, "correct horse");
        let hash = parse(&made.stored).unwrap_or_else(|e| panic!("{scheme}: {e}: {}", made.stored));
        assert_eq!(hash.scheme(), scheme, "{}", made.stored);
        assert_eq!(
            hash.verify("correct horse", &Limits::default()),
            Verdict::Match,
            "{scheme}"
        );
        assert_eq!(
            hash.as_decoy().verify("correct horse", &Limits::default()),
            Verdict::Mismatch,
            "{scheme} decoy"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_wrong_password_never_verifies(
        scheme in any_scheme(),
        right in password(),
        wrong in password(),
    ) {
        prop_assume!(right != wrong);
        // bcrypt reads 72 bytes: passwords that agree on those are the same to it.
        prop_assume!(!(right.len() >= 72 && wrong.len() >= 72 && right.as_bytes()[..72] == wrong.as_bytes()[..72]));
        let made = cheap(scheme, &right);
        prop_assert_eq!(verdict(&made.stored, &right), Some(Verdict::Match));
        prop_assert_eq!(verdict(&made.stored, &wrong), Some(Verdict::Mismatch));
    }

    #[test]
    fn a_truncated_digest_never_verifies(scheme in any_scheme(), cut in 1usize..40) {
        let made = cheap(scheme, "correct horse");
        let full = made.stored.trim_end_matches('=');
        let keep = full.len().saturating_sub(cut);
        let truncated = &full[..keep];
        prop_assert_ne!(verdict(truncated, "correct horse"), Some(Verdict::Match), "{}", truncated);
    }

    #[test]
    fn a_padded_digest_never_verifies(
        scheme in any_scheme(),
        padding in "[=A0./ $\n]{1,3}",
    ) {
        let made = cheap(scheme, "correct horse");
        let padded = format!("{}{padding}", made.stored);
        prop_assert_ne!(verdict(&padded, "correct horse"), Some(Verdict::Match), "{:?}", padded);
        let leading = format!(" {}", made.stored);
        prop_assert_ne!(verdict(&leading, "correct horse"), Some(Verdict::Match), "{:?}", leading);
    }

    #[test]
    fn a_mutated_digest_never_verifies(
        scheme in any_scheme(),
        at in any::<prop::sample::Index>(),
        with in proptest::char::range('!', '~'),
    ) {
        let made = cheap(scheme, "correct horse");
        let position = made.hash_at.start + at.index(made.hash_at.len());
        let old = char::from(made.stored.as_bytes()[position]);
        // Hex may be written in either case; any other change must be refused.
        prop_assume!(!old.eq_ignore_ascii_case(&with));
        let mut mutated = made.stored.clone();
        mutated.replace_range(position..=position, &with.to_string());
        prop_assert_ne!(verdict(&mutated, "correct horse"), Some(Verdict::Match), "{}", mutated);
    }

    #[test]
    fn arbitrary_text_after_a_label_never_panics(
        label in proptest::sample::select(vec![
            "{CLERK:bcrypt}", "{CLERK:bcrypt_peppered}", "{CLERK:bcrypt_sha256_django}",
            "{CLERK:argon2id}", "{CLERK:pbkdf2_sha1}", "{CLERK:pbkdf2_sha256}",
            "{CLERK:pbkdf2_sha256_django}", "{CLERK:pbkdf2_sha512}", "{CLERK:pbkdf2_sha512_hex}",
            "{CLERK:phpass}", "{CLERK:scrypt_firebase}", "{CLERK:scrypt_werkzeug}",
            "{CLERK:ldap_ssha}", "{CLERK:sha512_symfony}", "{CLERK:md5_salted}",
            "{CLERK:sha256}", "{SSHA}", "{SHA}", "$argon2i$", "$P$", "$H$", "$2x$04$",
        ]),
        rest in "[ -~]{0,120}",
    ) {
        let stored = format!("{label}{rest}");
        if let Ok(hash) = parse(&stored) {
            let cheap = Limits {
                max_rounds: 2_000,
                max_bcrypt_cost: 5,
                max_phpass_cost: 9,
                max_pbkdf2_iterations: 2_000,
                max_argon2_memory_kib: 1_024,
                max_argon2_iterations: 2,
                max_argon2_parallelism: 2,
                max_scrypt_log_n: 8,
                max_scrypt_r: 8,
                max_scrypt_p: 1,
                ..Limits::default()
            };
            let _ = hash.verify("correct horse", &cheap);
        }
    }
}

/// Costs so large that computing any of them would take minutes or exhaust memory: each is
/// refused at once, so this test finishing at all shows that no work was started.
#[test]
fn costs_over_the_caps_are_refused_before_any_work() {
    let salt16 = "c29tZXNhbHRzb21lc2FsdA";
    let hash32 = "RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs";
    let stored = [
        "$6$rounds=999999999$salt$6LUofpTKYGJWmsxkYcfhDE9wD283B.yVCb5N1sauapb401RaE4WCRGITJhyCTMm1Vn0P9o4AW6q0BRXpOJZc9.".to_owned(),
        "$2b$31$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e".to_owned(),
        "{CLERK:bcrypt_sha256_django}bcrypt_sha256$$2b$31$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e".to_owned(),
        format!("$argon2id$v=19$m=4194304,t=1,p=1${salt16}${hash32}"),
        format!("$argon2i$v=19$m=64,t=4000000,p=1${salt16}${hash32}"),
        format!("$argon2id$v=19$m=4096,t=1,p=512${salt16}${hash32}"),
        format!("{{CLERK:pbkdf2_sha256_django}}pbkdf2_sha256$4000000000$salt${}", b64_encode(&[0u8; 32])),
        format!("{{CLERK:pbkdf2_sha1}}pbkdf2_sha1$4000000000$salt${}", hex_lower(&[0u8; 20])),
        format!("{{CLERK:pbkdf2_sha512_hex}}pbkdf2_sha512_hex$4000000000$00${}", hex_lower(&[0u8; 64])),
        "$P$SpropsaltjQfbl22K58VvWrbA6Z.ai1".to_owned(),
        format!("{{CLERK:scrypt_werkzeug}}scrypt:1073741824:8:1$salt${}", hex_lower(&[0u8; 64])),
        format!("{{CLERK:scrypt_werkzeug}}scrypt:16384:1024:1$salt${}", hex_lower(&[0u8; 64])),
        format!("{{CLERK:scrypt_werkzeug}}scrypt:16384:8:64$salt${}", hex_lower(&[0u8; 64])),
        format!("{{CLERK:scrypt_firebase}}{}$c2FsdA==${}$Bw==$8$40", b64_encode(&[1u8; 64]), b64_encode(&[2u8; 64])),
        format!("{{CLERK:sha512_symfony}}sha512_symfony$4000000000$salt${}", b64_encode(&[0u8; 64])),
    ];
    for value in &stored {
        let hash = parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(
            hash.verify("correct horse", &Limits::default()),
            Verdict::CostTooHigh,
            "{value}"
        );
        assert_eq!(
            hash.as_decoy().verify("correct horse", &Limits::default()),
            Verdict::CostTooHigh,
            "decoy of {value}"
        );
    }
}
