//! Opaque secrets (refresh tokens, API keys): 256 random bits from the OS,
//! base64url without padding, stored only as SHA-256 hex digests. A fast hash
//! is sound here because the secrets are high-entropy random values, not
//! passwords; it also allows an indexed lookup by hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random secret: 32 bytes from the OS RNG, base64url (43 chars).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A short random id (session families, JWT ids): 16 bytes, base64url.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 hex digest under which a secret is stored.
pub fn digest(secret: &str) -> String {
    digest_bytes(secret.as_bytes())
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn digest_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_stable() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
