//! Arbitrary bytes into `CryptHash::parse` and, when that accepts them, into
//! `CryptHash::verify`. Neither may ever panic.
//!
//! Input layout: the stored hash, then byte 0xFF, then the password. 0xFF
//! never occurs in UTF-8, so the separator restricts neither part; without it
//! the whole input is the stored hash and the password is empty. A part that
//! is not valid UTF-8 is decoded lossily (invalid sequences become U+FFFD).

#![no_main]

use libfuzzer_sys::fuzz_target;
use userstore_gateway::password::{CryptHash, Limits, Verdict};

const SEPARATOR: u8 = 0xFF;

/// Tight limits keep each run cheap: at most 5000 sha-crypt rounds, bcrypt
/// cost 6, 64-byte passwords. Costlier hashes still go through the limit checks.
fn limits() -> Limits {
    Limits {
        max_rounds: 5_000,
        max_bcrypt_cost: 6,
        max_password_bytes: 64,
    }
}

fuzz_target!(|data: &[u8]| {
    let (stored, password) = match data.iter().position(|&byte| byte == SEPARATOR) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let stored = String::from_utf8_lossy(stored);
    let password = String::from_utf8_lossy(password);

    let Ok(hash) = CryptHash::parse(&stored) else {
        return;
    };
    // Debug output must work for every parsed hash (it is what logs show).
    let _ = format!("{hash:?}");

    let limits = limits();
    let verdict = hash.verify(&password, &limits);
    if password.len() > limits.max_password_bytes {
        assert_eq!(verdict, Verdict::PasswordTooLong);
    }
    if verdict == Verdict::Match {
        // C callers cannot pass a NUL, so such a password must never be accepted.
        assert!(
            !password.contains('\0'),
            "a password containing NUL matched"
        );
    }
});
