//! Accounts and credentials: login sessions with short-lived JWTs and
//! rotating refresh tokens, API keys, and the permission table.

pub mod dto;
pub mod extractors;
pub mod handlers;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod permissions;
pub mod recovery;
pub mod repo;
pub mod tokens;

use crate::config::Settings;
use crate::db::Pool;
use crate::error::ApiError;

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
}

impl AuthState {
    /// Builds the state: `JWT_SECRET` when set, else the keys stored in the
    /// database (the first instance creates one; see [`keys`]).
    pub fn from_settings(settings: &Settings, pool: &Pool) -> anyhow::Result<Self> {
        let keys = match &settings.jwt_secret {
            Some(s) => jwt::JwtKeys::new(s.expose().as_bytes(), &settings.jwt_issuer)?,
            None => {
                let mut conn = pool.get()?;
                jwt::JwtKeys::stored(keys::load_or_create(&mut conn)?, &settings.jwt_issuer)?
            }
        };
        Ok(Self {
            keys,
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_days: settings.refresh_token_ttl_days,
        })
    }
}

/// How long a retired key keeps verifying: the longest token lifetime
/// (access tokens; preview links are stored rows, not JWTs) plus
/// [`keys::ROTATION_MARGIN_SECS`].
pub fn rotation_grace_secs(settings: &Settings) -> i64 {
    settings.access_token_ttl_secs + keys::ROTATION_MARGIN_SECS
}

/// Re-reads the stored signing keys when [`jwt::JwtKeys::wants_reload`]
/// says so (a minute has passed, or `token` names an unknown `kid`), so
/// instances pick up `broadsheet keys rotate` without a restart.
pub async fn refresh_keys(state: &crate::http::AppState, token: Option<&str>) -> Result<(), ApiError> {
    if state.auth.keys.wants_reload(token) {
        let loaded = crate::db::run(&state.pool, |c| Ok(keys::load(c, crate::db::now())?)).await?;
        if !loaded.is_empty() {
            state.auth.keys.install(loaded)?;
        }
    }
    Ok(())
}

/// Registers `/auth` routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::me)
        .service(handlers::change_password)
        .service(handlers::request_password_reset)
        .service(handlers::confirm_password_reset);
}
