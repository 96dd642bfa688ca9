//! Password hashing: argon2id, m=19 MiB (19456 KiB), t=2, p=1 — the OWASP
//! Password Storage Cheat Sheet's first recommended configuration. Hashes are
//! PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`), so parameters can be
//! raised later without invalidating stored hashes.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest accepted password, in characters (NIST SP 800-63B allows 8; we ask more).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in bytes (bounds hashing work per request).
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the length policy; the message is for the `password` field.
pub fn validate(password: &str) -> Result<(), String> {
    if password.trim().chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters, not counting surrounding spaces"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
    }
    Ok(())
}

/// Hashes `password` with a fresh random salt. CPU-heavy (~tens of ms): call
/// it off the async threads.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Verifies `password` against a stored PHC hash. An unparsable hash verifies
/// as false. CPU-heavy: call it off the async threads.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Runs a verification against a fixed dummy hash, so that a login for an
/// unknown email costs the same time as one with a wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, phc);
}

/// At most this many argon2 computations run at once (each takes 19 MiB), so
/// a flood of logins queues instead of exhausting memory and threads.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        tokio::sync::Semaphore::new(n.clamp(1, 8))
    })
}

/// [`verify`] (or [`verify_dummy`] when `phc` is `None`, returning false) on
/// the blocking pool, at most a few at a time.
pub async fn verify_async(password: String, phc: Option<String>) -> Result<bool, crate::error::ApiError> {
    let _slot = hashing_slots().acquire().await.map_err(|e| anyhow::anyhow!("hashing semaphore closed: {e}"))?;
    actix_web::web::block(move || match phc {
        Some(h) => verify(&password, &h),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(|e| crate::error::ApiError::Internal(anyhow::anyhow!("password check failed: {e}")))
}

/// [`hash`] on the blocking pool, at most a few at a time.
pub async fn hash_async(password: String) -> Result<String, crate::error::ApiError> {
    let _slot = hashing_slots().acquire().await.map_err(|e| anyhow::anyhow!("hashing semaphore closed: {e}"))?;
    let hashed = actix_web::web::block(move || hash(&password))
        .await
        .map_err(|e| crate::error::ApiError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?;
    Ok(hashed?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = hash("correct horse battery").unwrap();

        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_length_policy_is_enforced() {
        assert!(validate("short").is_err());
        assert!(validate(&"x".repeat(2000)).is_err());
        assert!(validate("long enough pass").is_ok());
    }
}
