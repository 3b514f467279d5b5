//! Any string presented as a token: verification answers Ok or Err, never panics, and
//! never accepts a token it did not sign.
#![no_main]

use std::sync::LazyLock;

use authenticon::domain::Secret;
use authenticon::tokens::{JwtCodec, TokenType};
use authenticon::Config;
use libfuzzer_sys::fuzz_target;

static CODEC: LazyLock<JwtCodec> =
    LazyLock::new(|| JwtCodec::new(&Config::default(), &Secret::new("fuzz-secret-0123456789-abcdefghijklmnop")));

/// Any time will do: no input carries a valid signature.
const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    for expected in [None, Some(TokenType::Access), Some(TokenType::Refresh)] {
        // No input the fuzzer builds carries a valid signature under this secret.
        assert!(CODEC.verify(&token, expected, NOW).is_err());
    }
});
