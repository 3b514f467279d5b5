//! Cryptography the services use, each piece a well-kept crate behind a small interface:
//! password hashing and Django's validators, sealing secrets at rest, opaque single-use
//! tokens, and the service secret itself.

mod opaque;
pub mod passwords;
mod seal;
pub mod secret_key;

pub use opaque::{new_token, parse_token, OpaqueToken};
pub use seal::{open, seal, SealError};

/// `bytes` random bytes, base64url without padding: handles, codes, client ids and
/// secrets, the states of external sign-ins.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256, hex: how high-entropy tokens are looked up without being stored.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Equality that takes the same time wherever the strings differ (not whatever their
/// lengths). Word by word: it runs on every protected request (the verified-token cache),
/// where `subtle`'s byte-by-byte comparison was over a percent of the CPU time.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    constant_time_eq::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Makes ring the process's TLS crypto provider (pure Rust and assembly, no C toolchain
/// beyond what the SQLite build needs). Every HTTPS client in the process (calls to
/// external identity providers) needs one; installing twice is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("", ""));
        // Lengths that end inside a vector, a word, and each smaller step of the tail; a
        // difference in any bit a printable byte has, at any position, is a difference.
        let text = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVzLTAxMjM0NTY3ODk";
        for len in [1, 3, 7, 8, 15, 16, 17, 31, 47, text.len() - 1] {
            let a = &text[..len];
            // Equal text in another allocation.
            let copy = String::from_utf8(a.as_bytes().to_vec()).expect("ASCII");
            assert!(constant_time_eq(a, &copy), "length {len}");
            for i in 0..len {
                for bit in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40] {
                    let mut b = a.as_bytes().to_vec();
                    b[i] ^= bit;
                    // Still ASCII, so still a string.
                    let b = String::from_utf8(b).expect("ASCII");
                    assert!(!constant_time_eq(a, &b), "length {len}, byte {i}, bit {bit:#x}");
                }
            }
            assert!(!constant_time_eq(a, &text[..len - 1]), "shorter than {len}");
            assert!(!constant_time_eq(a, &text[..len + 1]), "longer than {len}");
        }
    }
}
