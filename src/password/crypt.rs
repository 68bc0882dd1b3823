//! The digests themselves (sha-crypt, md5-crypt) and constant-time comparison.

use md5::{Digest, Md5};
use sha_crypt::{sha256_crypt, sha512_crypt, Params};
use subtle::ConstantTimeEq;

use super::*;

pub(super) fn constant_time_equal(computed: &[u8], stored: &[u8]) -> bool {
    computed.ct_eq(stored).into()
}

/// Appends `chars` characters encoding `high:mid:low` as crypt(3) does: least significant
/// six bits first.
pub(super) fn push_crypt_base64(out: &mut Vec<u8>, high: u8, mid: u8, low: u8, chars: usize) {
    let mut word = (u32::from(high) << 16) | (u32::from(mid) << 8) | u32::from(low);
    for _ in 0..chars {
        out.push(CRYPT_ALPHABET[(word & 0x3f) as usize]);
        word >>= 6;
    }
}

/// `sha_crypt::sha512_crypt` returns the raw digest; the byte shuffling and base64 that turn
/// it into crypt(3) text are done here. The crate's own verifier is not used because its
/// field syntax rejects salts libxcrypt accepts (empty, or containing e.g. `_@#%~`).
pub(super) fn sha512_digest_text(password: &[u8], salt: &[u8], params: Params) -> Vec<u8> {
    let raw = sha512_crypt(password, salt, params);
    let mut out = Vec::with_capacity(SHA512_DIGEST_CHARS);
    for &(high, mid, low) in &SHA512_GROUPS {
        push_crypt_base64(&mut out, raw[high], raw[mid], raw[low], 4);
    }
    push_crypt_base64(&mut out, 0, 0, raw[63], 2);
    out
}

/// See [`sha512_digest_text`].
pub(super) fn sha256_digest_text(password: &[u8], salt: &[u8], params: Params) -> Vec<u8> {
    let raw = sha256_crypt(password, salt, params);
    let mut out = Vec::with_capacity(SHA256_DIGEST_CHARS);
    for &(high, mid, low) in &SHA256_GROUPS {
        push_crypt_base64(&mut out, raw[high], raw[mid], raw[low], 4);
    }
    push_crypt_base64(&mut out, 0, raw[31], raw[30], 3);
    out
}

/// md5-crypt is written out here because no maintained crate on crates.io provides it.
///
/// It follows Poul-Henning Kamp's FreeBSD algorithm as glibc and libxcrypt implement it.
pub(super) fn md5_digest_text(password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut side = Md5::new();
    side.update(password);
    side.update(salt);
    side.update(password);
    let side_sum = side.finalize();

    let mut main = Md5::new();
    main.update(password);
    main.update(b"$1$");
    main.update(salt);
    // As many bytes of the side digest as the password is long, repeating it as needed.
    for chunk in password.chunks(side_sum.len()) {
        main.update(&side_sum[..chunk.len()]);
    }
    // Kamp's original mixes in, per bit of the length, either a zero byte (from a buffer he
    // had just cleared) or the first password byte. Odd, but every implementation keeps it.
    let mut length_bits = password.len();
    while length_bits != 0 {
        if length_bits & 1 == 1 {
            main.update([0u8]);
        } else {
            main.update(&password[..1]);
        }
        length_bits >>= 1;
    }
    let mut sum: [u8; 16] = main.finalize().into();

    for round in 0..MD5_ROUNDS {
        let mut step = Md5::new();
        if round % 2 == 1 {
            step.update(password);
        } else {
            step.update(sum);
        }
        if round % 3 != 0 {
            step.update(salt);
        }
        if round % 7 != 0 {
            step.update(password);
        }
        if round % 2 == 1 {
            step.update(sum);
        } else {
            step.update(password);
        }
        sum = step.finalize().into();
    }

    let mut out = Vec::with_capacity(MD5_DIGEST_CHARS);
    for &(high, mid, low) in &MD5_GROUPS {
        push_crypt_base64(&mut out, sum[high], sum[mid], sum[low], 4);
    }
    push_crypt_base64(&mut out, 0, 0, sum[11], 2);
    out
}
