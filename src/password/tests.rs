//! Known-answer vectors from glibc/libxcrypt and property tests.

use super::*;
use proptest::prelude::*;

// Reference vectors: produced on Debian 12 (libxcrypt 4.4.33) with
//   python3 -W ignore -c "import crypt; print(crypt.crypt(PASSWORD, SETTING))"
// and, where marked, cross-checked with `openssl passwd -6/-5/-1 -salt SALT PASSWORD`.

const B1_HASH: &str =
    "$6$xyz$C/vOVAshxi1VfgblFW220kcBCpZ7lihIohmNInE5M6wCQdxDaleG6LZzzGiRJ8sOWQHGwtYuz.8kcfZntV1OY/";

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
const HORSE_SHA512_EMPTY_SALT: &str =
    "$6$$6LUofpTKYGJWmsxkYcfhDE9wD283B.yVCb5N1sauapb401RaE4WCRGITJhyCTMm1Vn0P9o4AW6q0BRXpOJZc9.";
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
    StoredHash::parse(stored)
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
    matches!(StoredHash::parse(stored), Err(HashError::Malformed(_)))
}

fn unsupported(stored: &str) -> bool {
    matches!(StoredHash::parse(stored), Err(HashError::Unsupported(_)))
}

#[test]
fn sha512_b1systems_vector_matches_only_the_exact_password() {
    let hash = StoredHash::parse(B1_HASH).unwrap();
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
    assert_eq!(StoredHash::parse(HORSE_SHA512).unwrap().cost(), 5000);
}

#[test]
fn sha512_explicit_rounds_5000_matches_glibc() {
    assert_matches_only(HORSE_SHA512_R5000, HORSE);
    assert_eq!(StoredHash::parse(HORSE_SHA512_R5000).unwrap().cost(), 5000);
}

#[test]
fn sha512_rounds_1000_matches_glibc() {
    assert_matches_only(HORSE_SHA512_R1000, HORSE);
    assert_eq!(StoredHash::parse(HORSE_SHA512_R1000).unwrap().cost(), 1000);
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
    let hash = StoredHash::parse(HORSE_SHA256_R1000).unwrap();
    assert_eq!((hash.scheme(), hash.cost()), (Scheme::Sha256Crypt, 1000));
}

#[test]
fn md5_crypt_matches_glibc() {
    assert_matches_only(HORSE_MD5, HORSE);
    assert_matches_only(HORSE_MD5_SHORT_SALT, HORSE);
    assert_matches_only(HORSE_MD5_EMPTY_SALT, HORSE);
    let hash = StoredHash::parse(HORSE_MD5).unwrap();
    assert_eq!((hash.scheme(), hash.cost()), (Scheme::Md5Crypt, 1000));
}

#[test]
fn bcrypt_2a_2b_2y_forms_match_glibc() {
    for stored in [HORSE_BCRYPT_2B, HORSE_BCRYPT_2A, HORSE_BCRYPT_2Y] {
        assert_matches_only(stored, HORSE);
        let hash = StoredHash::parse(stored).unwrap();
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
    let prefixed = StoredHash::parse(&format!("{{SHA512-CRYPT}}{B1_HASH}")).unwrap();
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
    assert!(unsupported("{SMD5}W6ph5Mm5Pz8GgiULbPgzG37mj9g="));
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
        "$7$CU..../....abc$def",
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
    assert!(StoredHash::parse(&format!("$6$saltsaltsaltsalt${}1", &digest512[..85])).is_ok());
    assert!(StoredHash::parse(&format!("$5$saltsaltsaltsalt${}D", &digest256[..42])).is_ok());
    // Extreme but valid rounds parse fine; the limits decide whether they are computed.
    assert_eq!(
        StoredHash::parse(&format!("$6$rounds=999999999$salt${digest512}"))
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
    let hash = StoredHash::parse(HORSE_SHA512).unwrap();
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
        StoredHash::parse(NON_ASCII_MD5)
            .unwrap()
            .verify(NON_ASCII, &tight),
        Verdict::PasswordTooLong
    );
}

#[test]
fn excessive_rounds_are_refused_instantly_without_hashing() {
    let digest = &HORSE_SHA512["$6$saltsaltsaltsalt$".len()..];
    let hash =
        StoredHash::parse(&format!("$6$rounds=999999999$saltsaltsaltsalt${digest}")).unwrap();
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
    let hash = StoredHash::parse(&format!("$2b$31${tail}")).unwrap();
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
    let hash = StoredHash::parse(&format!("$2b$31${tail}")).unwrap();
    let limits = Limits::default();
    let too_long = "p".repeat(limits.max_password_bytes + 1);
    assert_eq!(hash.verify(&too_long, &limits), Verdict::PasswordTooLong);
}

fn check_with(stored: &str, password: &str, limits: &Limits) -> Verdict {
    StoredHash::parse(stored).unwrap().verify(password, limits)
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
        let shown = format!("{:?}", StoredHash::parse(stored).unwrap());
        assert!(!shown.contains(salt), "{shown}");
        assert!(!shown.contains(digest_start), "{shown}");
        assert!(
            shown.contains("scheme") && shown.contains("cost"),
            "{shown}"
        );
    }
    let shown = format!("{:?}", StoredHash::parse(HORSE_SHA512_R1000).unwrap());
    assert_eq!(shown, r#"StoredHash { scheme: Sha512Crypt, cost: "1000" }"#);
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
        format!("{{SMD5}}{salt}{digest}"),
        format!("{{SSHA}}{salt}{digest}!"),
        format!("{{CLERK:pbkdf2_sha256}}pbkdf2_sha256$x${salt}${digest}"),
        format!("{{CLERK:pbkdf2_sha256_django}}pbkdf2_sha256$1000${salt}${digest}!"),
        format!("{{CLERK:md5_salted}}{salt}${digest}"),
        format!("{{CLERK:sha512_symfony}}sha512_symfony$5000${salt}${digest}"),
        format!("{{CLERK:scrypt_firebase}}{digest}${salt}$$$8$14"),
        format!("{{CLERK:scrypt_werkzeug}}scrypt:32768:8:1${salt}${digest}"),
        format!("{{CLERK:bcrypt_peppered}}$2b$04${salt}{digest}"),
        format!("{{CLERK:nosuchhasher}}{salt}{digest}"),
        format!("{{CLERK:awscognito}}awscognito#{salt}#{digest}#x"),
        format!("$argon2id$v=19$m=65536,t=2,p=1${salt}${digest}"),
        format!("$P$B{salt}{digest}"),
        format!("{{SHA256-CRYPT}}$6${salt}${digest}"),
        format!("{salt}{digest}"),
        "DiGeStSeCrEt1".to_owned(),
    ];
    for stored in &inputs {
        let err = StoredHash::parse(stored).unwrap_err();
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
        let dummy = StoredHash::dummy(scheme, cost);
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
        StoredHash::dummy(Scheme::Bcrypt, 20).verify("x", &limits),
        Verdict::CostTooHigh
    );
    assert_eq!(
        StoredHash::dummy(Scheme::Sha512Crypt, 2_000_000).verify("x", &limits),
        Verdict::CostTooHigh
    );
}

#[test]
fn dummy_clamps_costs_the_scheme_cannot_express() {
    assert_eq!(StoredHash::dummy(Scheme::Sha512Crypt, 10).cost(), 1_000);
    assert_eq!(
        StoredHash::dummy(Scheme::Sha256Crypt, u32::MAX).cost(),
        999_999_999
    );
    assert_eq!(StoredHash::dummy(Scheme::Bcrypt, 1).cost(), 4);
    assert_eq!(StoredHash::dummy(Scheme::Bcrypt, 99).cost(), 31);
    assert_eq!(StoredHash::dummy(Scheme::Md5Crypt, 12).cost(), 1_000);
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
    let hash = StoredHash::parse(&stored).unwrap();
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
        ..Limits::default()
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(stored in any::<String>()) {
        let _ = StoredHash::parse(&stored);
    }

    #[test]
    fn parse_and_verify_never_panic_on_hash_like_text(
        stored in "(\\{[A-Za-z0-9-]{0,13}\\}?)?\\$(1|5|6|2a|2b|2y|2x|y|)\\$?(rounds=[0-9+ ]{0,11}\\$)?[ -~äü✓]{0,70}",
        password in "\\PC{0,8}",
    ) {
        if let Ok(hash) = StoredHash::parse(&stored) {
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
        if let Ok(hash) = StoredHash::parse(&mutated) {
            prop_assert_ne!(hash.verify("wrong password", &cheap_limits()), Verdict::Match);
            if mutated != HORSE_MD5 {
                prop_assert_ne!(hash.verify(HORSE, &cheap_limits()), Verdict::Match);
            }
        }
    }
}
