//! Arbitrary bytes into `StoredHash::parse` and, when that accepts them, into
//! `StoredHash::verify`, for every scheme. Neither may ever panic.
//!
//! Input layout: the stored hash, then byte 0xFF, then the password. 0xFF
//! never occurs in UTF-8, so the separator restricts neither part; without it
//! the whole input is the stored hash and the password is empty. A part that
//! is not valid UTF-8 is decoded lossily (invalid sequences become U+FFFD).

#![no_main]

use libfuzzer_sys::fuzz_target;
use userstore_gateway::password::{Limits, Scheme, StoredHash, Verdict};

const SEPARATOR: u8 = 0xFF;

/// Tight limits keep each run cheap (at most 5000 sha-crypt rounds, bcrypt cost 6,
/// 1 MiB of argon2, 64-byte passwords, ...). Costlier hashes still go through the
/// limit checks.
fn limits() -> Limits {
    Limits {
        max_rounds: 5_000,
        max_bcrypt_cost: 6,
        max_phpass_cost: 10,
        max_pbkdf2_iterations: 5_000,
        max_argon2_memory_kib: 1_024,
        max_argon2_iterations: 2,
        max_argon2_parallelism: 2,
        max_scrypt_log_n: 10,
        max_scrypt_r: 8,
        max_scrypt_p: 1,
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

    let Ok(hash) = StoredHash::parse(&stored) else {
        return;
    };
    // Debug output must work for every parsed hash (it is what logs show).
    let _ = format!("{hash:?}");

    let limits = limits();
    let verdict = hash.verify(&password, &limits);
    if password.len() > limits.max_password_bytes {
        assert_eq!(verdict, Verdict::PasswordTooLong);
    }
    let c_string = matches!(
        hash.scheme(),
        Scheme::Sha512Crypt | Scheme::Sha256Crypt | Scheme::Md5Crypt | Scheme::Bcrypt
    );
    if verdict == Verdict::Match && c_string {
        // C callers cannot pass a NUL, so such a password must never be accepted.
        assert!(
            !password.contains('\0'),
            "a password containing NUL matched"
        );
    }
});
