//! Accounts and credentials: login sessions with short-lived JWTs and
//! rotating refresh tokens, API keys, and the permission table.

pub mod dto;
pub mod extractors;
pub mod handlers;
pub mod jwt;
pub mod password;
pub mod permissions;
pub mod recovery;
pub mod repo;
pub mod throttle;
pub mod tokens;

use std::io::Write;
use std::time::Duration;

use crate::config::Settings;

pub use extractors::{AuthUser, MaybeAuthUser};
pub use permissions::{Action, Principal, Role};

/// Authentication state shared by handlers.
pub struct AuthState {
    /// JWT signing/verification.
    pub keys: jwt::JwtKeys,
    /// Access-token lifetime, seconds.
    pub access_ttl_secs: i64,
    /// Refresh-token lifetime, days.
    pub refresh_ttl_days: i64,
    /// Failed-login throttle.
    pub throttle: throttle::LoginThrottle,
    /// Take client addresses from proxy headers.
    pub trust_proxy_headers: bool,
}

impl AuthState {
    /// Builds the state, loading or creating the JWT secret (see [`jwt_secret`]).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let secret = jwt_secret(settings)?;
        Ok(Self {
            keys: jwt::JwtKeys::new(&secret, &settings.jwt_issuer)?,
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_days: settings.refresh_token_ttl_days,
            throttle: throttle::LoginThrottle::new(
                settings.login_max_failures_per_client,
                settings.login_max_failures_per_account,
                Duration::from_secs(settings.login_failure_window_secs),
            ),
            trust_proxy_headers: settings.trust_proxy_headers,
        })
    }
}

/// The HMAC secret: `JWT_SECRET` if set; otherwise the contents of
/// `DATA_DIR/jwt_secret`, created with 256 random bits (mode 0600) on first
/// start, with a warning. Every instance behind a load balancer must share
/// one secret, so multi-instance deployments must set `JWT_SECRET`.
pub fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &settings.jwt_secret {
        return Ok(s.expose().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!("{} is shorter than 32 bytes; delete it or set JWT_SECRET", path.display()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot read {}: {e}; set JWT_SECRET instead", path.display())
        }
        Err(_) => {}
    }
    std::fs::create_dir_all(&settings.data_dir)?;
    let secret = tokens::random_secret();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(secret.as_bytes())?;
            tracing::warn!(
                path = %path.display(),
                "JWT_SECRET is not set: generated a random signing secret and saved it; \
                 set JWT_SECRET when running more than one instance"
            );
            Ok(secret.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => jwt_secret(settings),
        Err(e) => anyhow::bail!("cannot create {}: {e}; set JWT_SECRET instead", path.display()),
    }
}

/// Registers `/auth` routes under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::me)
        .service(handlers::change_password)
        .service(handlers::request_password_reset)
        .service(handlers::confirm_password_reset);
}
