//! Request extractors for credentials.
//!
//! - [`AuthUser`]: requires valid credentials (a user's access token or an API
//!   key); anything else is 401 with `WWW-Authenticate: Bearer`.
//! - [`MaybeAuthUser`]: anonymous callers pass as `None`, but *bad*
//!   credentials are still 401, never silently treated as anonymous.
//!
//! Credentials come from `Authorization: Bearer <jwt or key>` or `X-Api-Key:
//! <key>`. API keys start with `bsk_`; anything else after `Bearer` is a JWT.
//! Both headers with different values are a 400 naming both.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use super::permissions::{CurrentKey, CurrentUser, Principal, Role};
use super::{repo, tokens};
use crate::error::{ApiError, FieldError};
use crate::http::AppState;

/// Prefix of every API key.
pub const API_KEY_PREFIX: &str = "bsk_";

/// A caller with valid credentials.
#[derive(Clone, Debug)]
pub struct AuthUser(pub Principal);

/// A caller who may be anonymous; bad credentials are still rejected.
#[derive(Clone, Debug)]
pub struct MaybeAuthUser(pub Option<Principal>);

enum Credential {
    Jwt(String),
    Key(String),
}

fn credential(req: &HttpRequest) -> Result<Option<Credential>, ApiError> {
    let count = |name| req.headers().get_all(name).count();
    if count(actix_web::http::header::AUTHORIZATION) > 1
        || count(actix_web::http::header::HeaderName::from_static("x-api-key")) > 1
    {
        return Err(ApiError::Unauthorized("send one credential, not several".into()));
    }
    let api_key = match req.headers().get("x-api-key") {
        Some(v) => Some(
            v.to_str().map_err(|_| ApiError::Unauthorized("X-Api-Key is not valid text".into()))?.trim().to_owned(),
        ),
        None => None,
    };
    let bearer = match req.headers().get(actix_web::http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v.to_str().map_err(|_| ApiError::Unauthorized("Authorization is not valid text".into()))?.trim();
            let (scheme, token) = v.split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                return Err(ApiError::Unauthorized("use `Authorization: Bearer <token>`".into()));
            }
            Some(token.trim().to_owned())
        }
        None => None,
    };
    Ok(match (bearer, api_key) {
        // Two different credentials: which one speaks for the request is not
        // for the server to guess (one of them may be a stale or a stolen one).
        (Some(b), Some(k)) if b != k => {
            let message = "was sent together with a different credential; send exactly one";
            return Err(ApiError::BadRequest {
                detail: "both `Authorization` and `X-Api-Key` were sent, with different credentials; send one".into(),
                errors: vec![
                    FieldError { field: "Authorization".into(), message: message.into() },
                    FieldError { field: "X-Api-Key".into(), message: message.into() },
                ],
            });
        }
        (_, Some(k)) => Some(Credential::Key(k)),
        (Some(t), None) if t.starts_with(API_KEY_PREFIX) => Some(Credential::Key(t)),
        (Some(t), None) => Some(Credential::Jwt(t)),
        (None, None) => None,
    })
}

async fn authenticate(req: HttpRequest) -> Result<Option<Principal>, ApiError> {
    let Some(cred) = credential(&req)? else { return Ok(None) };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?
        .clone();
    let now = crate::db::now();
    match cred {
        Credential::Jwt(token) => {
            super::refresh_keys(&state, Some(&token)).await?;
            let claims = state.auth.keys.verify(&token).map_err(|e| {
                ApiError::Unauthorized(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired".into(),
                    _ => "the access token is invalid".into(),
                })
            })?;
            let user_id: i64 =
                claims.sub.parse().map_err(|_| ApiError::Unauthorized("the access token is invalid".into()))?;
            let family = claims.sid.clone();
            let found =
                crate::db::run(&state.pool, move |c| Ok(repo::active_user_in_session(c, user_id, &family, now)?))
                    .await?;
            let (role, author_id) =
                found.ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".into()))?;
            let role = Role::parse(&role).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("bad role {role}")))?;
            Ok(Some(Principal::User(CurrentUser { id: user_id, role, author_id, session_family: claims.sid })))
        }
        Credential::Key(key) => {
            let hash = tokens::digest(&key);
            let found = crate::db::run(&state.pool, move |c| Ok(repo::use_api_key(c, &hash, now)?)).await?;
            let (id, kind, scopes) =
                found.ok_or_else(|| ApiError::Unauthorized("the API key is invalid, expired or revoked".into()))?;
            Ok(Some(Principal::Key(CurrentKey::from_stored(id, &kind, &scopes))))
        }
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req)
                .await?
                .map(AuthUser)
                .ok_or_else(|| ApiError::Unauthorized("sign in: send `Authorization: Bearer <token>`".into()))
        })
    }
}

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(MaybeAuthUser) })
    }
}
