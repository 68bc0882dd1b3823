//! Text encodings of salts and digests: hex and the standard base64.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

/// Standard base64, with or without `=` padding (exports differ), strict about stray bits.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Lowercase hex, as Python's `hexdigest()` prints it.
pub(super) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Hex in either case; `None` for odd lengths or other characters.
pub(super) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    let value = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    digits
        .chunks_exact(2)
        .map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?))
        .collect()
}

/// Standard base64 with or without padding; `None` when it is not base64.
pub(super) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// Standard base64 with padding.
pub(super) fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Standard base64 without padding, as PHC strings write it.
pub(super) fn b64_decode_unpadded(text: &str) -> Option<Vec<u8>> {
    if text.contains('=') {
        return None;
    }
    B64.decode(text).ok()
}

/// A decimal field without sign or leading zero, in `1..=max`.
pub(super) fn positive_decimal(text: &str, max: u32) -> Option<u32> {
    let digits = text.as_bytes();
    let plain = digits.first().is_some_and(|d| (b'1'..=b'9').contains(d))
        && digits.len() <= 10
        && digits.iter().all(u8::is_ascii_digit);
    if !plain {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n <= max)
}
