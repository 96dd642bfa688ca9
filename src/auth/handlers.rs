//! HTTP handlers for `/api/v1/auth`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::Connection;

use super::dto::{
    Accepted, AcceptedEnvelope, ChangePassword, LoginRequest, PasswordResetConfirm, PasswordResetRequest,
    RefreshRequest, TokenEnvelope, TokenPair,
};
use super::jwt::{Claims, AUDIENCE};
use super::{password, recovery, repo, tokens, AuthState, AuthUser};
use crate::db::DbConnection;
use crate::error::{ApiError, Problem};
use crate::http::{client_ip, AppState, Key, Policy};
use crate::users::dto::{User, UserEnvelope};
use crate::users::model::UserRow;
use crate::users::repo as users_repo;

const BAD_CREDENTIALS: &str = "the email or password is incorrect";

/// Starts a new session family for `user` (or continues `family`), returning the token pair.
fn issue(
    conn: &mut DbConnection,
    auth: &AuthState,
    user: UserRow,
    family: Option<String>,
) -> Result<TokenPair, ApiError> {
    let now = chrono::Utc::now();
    let family = family.unwrap_or_else(tokens::random_id);
    let refresh_token = tokens::random_secret();
    let refresh_ttl = Duration::days(auth.refresh_ttl_days);
    repo::insert_session(conn, user.id, &family, &tokens::digest(&refresh_token), crate::db::now() + refresh_ttl)?;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + auth.access_ttl_secs,
        iss: auth.keys.issuer().to_owned(),
        aud: AUDIENCE.to_owned(),
        jti: tokens::random_id(),
        sid: family,
    };
    Ok(TokenPair {
        access_token: auth.keys.sign(&claims)?,
        token_type: "Bearer".into(),
        expires_in: auth.access_ttl_secs,
        refresh_token,
        refresh_expires_in: refresh_ttl.num_seconds(),
        user: User::from(user),
    })
}

/// Log in with email and password.
///
/// Returns a 15-minute access token and a single-use refresh token. Unknown
/// emails and wrong passwords get the same 401 in about the same time.
/// Failures are limited per client address (20 per 15 minutes) and per
/// account from one address (5): past either, that address gets 429 with
/// `Retry-After`. The account is never locked: from another address the
/// right password still works, at worst after a short delay that grows
/// with failures from everywhere (up to 2 s). `RateLimit-Policy` and
/// `RateLimit` describe the limits (draft-ietf-httpapi-ratelimit-headers).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenEnvelope, headers(
            ("RateLimit-Policy" = String, description = "The limits, e.g. `\"login-client\";q=20;w=900, \"login-account\";q=5;w=900`"),
            ("RateLimit" = String, description = "What is left of each, e.g. `\"login-client\";r=20;t=0, \"login-account\";r=5;t=0`"),
        )),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(
            ("Retry-After" = u64, description = "Seconds until an attempt may be checked again"),
            ("RateLimit-Policy" = String, description = "The limits"),
            ("RateLimit" = String, description = "What is left of each"),
        )),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::json::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let email = users_repo::normalize_email(&email);
    if password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid("password", format!("must be at most {} bytes", password::MAX_PASSWORD_BYTES)));
    }
    let ip = client_ip(&req, &state.settings);
    let keys = [Key::Client(ip), Key::ClientAccount(ip, &email), Key::Account(&email)];
    let attempt = state.limits.check(Policy::Login, &keys).await?;
    let lookup = email.clone();
    let user = crate::db::run(&state.pool, move |c| Ok(users_repo::find_by_email(c, &lookup)?)).await?;
    let ok = password::verify_async(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let (user, meters) = match (user, ok) {
        (Some(user), true) => (user, attempt.succeeded().await),
        _ => {
            attempt.failed().await;
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    if user.disabled {
        return Err(ApiError::Forbidden("this account is disabled".into()));
    }
    super::refresh_keys(&state, None).await?;
    let st = state.clone();
    let pair = crate::db::write(&state.pool, move |c| c.transaction(|c| issue(c, &st.auth, user, None))).await?;
    let mut res = HttpResponse::Ok();
    meters.apply(&mut res);
    Ok(res.json(TokenEnvelope { data: pair }))
}

/// Exchange a refresh token for a new token pair (rotation).
///
/// Each refresh token works once. Presenting one that was already rotated is
/// treated as theft: the whole session is revoked and the call is refused.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenEnvelope),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: crate::json::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = tokens::digest(body.refresh_token.trim());
    super::refresh_keys(&state, None).await?;
    let st = state.clone();
    let pair = crate::db::write(&state.pool, move |c| {
        let now = crate::db::now();
        let invalid = || ApiError::Unauthorized("the refresh token is invalid or expired".into());
        let session = repo::find_session(c, &hash)?.ok_or_else(invalid)?;
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Err(invalid());
        }
        // Rotate atomically; losing the race means the token was used twice.
        let rotated = c.transaction(|c| -> Result<Option<TokenPair>, ApiError> {
            if !repo::mark_rotated(c, session.id, now)? {
                return Ok(None);
            }
            let user = users_repo::find(c, session.user_id)?;
            if user.disabled {
                repo::revoke_family(c, &session.family_id, now)?;
                return Err(ApiError::Forbidden("this account is disabled".into()));
            }
            issue(c, &st.auth, user, Some(session.family_id.clone())).map(Some)
        })?;
        match rotated {
            Some(pair) => Ok(pair),
            None => {
                repo::revoke_family(c, &session.family_id, now)?;
                tracing::warn!(user_id = session.user_id, "refresh token reuse: session revoked");
                Err(ApiError::Unauthorized("this refresh token was already used; the session has been revoked".into()))
            }
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(TokenEnvelope { data: pair }))
}

/// Log out: revoke this session's access and refresh tokens.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "API keys have no session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let family = auth.0.user()?.session_family.clone();
    crate::db::write(&state.pool, move |c| Ok(repo::revoke_family(c, &family, crate::db::now())?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = UserEnvelope),
        (status = 403, description = "API keys are not users", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let id = auth.0.user()?.id;
    let user = crate::db::run(&state.pool, move |c| Ok(users_repo::find(c, id)?)).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { data: User::from(user) }))
}

/// Change your password.
///
/// Every session of the user is revoked, this one included, so access tokens
/// issued before the change stop working at once; the response carries a
/// fresh token pair for the caller.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Password changed; new tokens", body = TokenEnvelope, headers(
            ("RateLimit-Policy" = String, description = "The limits, e.g. `\"password-client\";q=20;w=900, \"password-account\";q=5;w=900`"),
            ("RateLimit" = String, description = "What is left of each"),
        )),
        (status = 400, description = "Wrong current password or weak new one (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(
            ("Retry-After" = u64, description = "Seconds until an attempt may be checked again"),
            ("RateLimit-Policy" = String, description = "The limits"),
            ("RateLimit" = String, description = "What is left of each"),
        )),
    )
)]
#[put("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    body: crate::json::Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let user_id = auth.0.user()?.id;
    let ChangePassword { current_password, new_password } = body.into_inner();
    password::validate(&new_password).map_err(|m| ApiError::invalid("new_password", m))?;
    if current_password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid("current_password", "is incorrect"));
    }
    let ip = client_ip(&req, &state.settings);
    let account = format!("user:{user_id}");
    let keys = [Key::Client(ip), Key::ClientAccount(ip, &account), Key::Account(&account)];
    let attempt = state.limits.check(Policy::PasswordChange, &keys).await?;
    let user = crate::db::run(&state.pool, move |c| Ok(users_repo::find(c, user_id)?)).await?;
    if !password::verify_async(current_password, Some(user.password_hash)).await? {
        attempt.failed().await;
        return Err(ApiError::invalid("current_password", "is incorrect"));
    }
    let meters = attempt.succeeded().await;
    let hash = password::hash_async(new_password).await?;
    let st = state.clone();
    let pair = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let now = crate::db::now();
            let changes = crate::users::model::UserChanges {
                password_hash: Some(hash),
                updated_at: Some(now),
                ..Default::default()
            };
            let user = users_repo::update(c, user_id, &changes)?;
            repo::revoke_user_sessions(c, user_id, now)?;
            // A reset link mailed before the change must not undo it.
            recovery::void_tokens(c, user_id, now)?;
            issue(c, &st.auth, user, None)
        })
    })
    .await?;
    let mut res = HttpResponse::Ok();
    meters.apply(&mut res);
    Ok(res.json(TokenEnvelope { data: pair }))
}

/// The answer to every well-formed reset request.
const RESET_ACCEPTED: &str = "If an account uses this address, a link to choose a new password is on its way.";

/// Ask for a password-reset link by email.
///
/// Always 202 with the same body, whether or not an account uses the
/// address, so the answer reveals nothing. When one does (and is enabled), a
/// mail with a single-use link valid for `PASSWORD_RESET_TTL_MINUTES` (60) is
/// queued; the link opens the front end's `PASSWORD_RESET_URL` page, which
/// POSTs the token to `/auth/password-reset/confirm`.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)", body = AcceptedEnvelope),
        (status = 400, description = "Malformed body or email (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reset requests from this address or for this email; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::json::Json<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = users_repo::normalize_email(&body.into_inner().email);
    crate::users::handlers::validate_email(&email)?;
    let ip = client_ip(&req, &state.settings);
    // Every request counts (never given back), per address and per email.
    state.limits.check(Policy::PasswordReset, &[Key::Client(ip), Key::Account(&email)]).await?;
    // The request only enqueues: the account lookup, token and mail happen
    // in the job, so this answer costs one insert whoever the address is.
    let job = crate::jobs::NewJob::new(crate::jobs::JobKind::PasswordReset, serde_json::json!({"email": email}));
    crate::db::write(&state.pool, move |c| Ok(crate::jobs::enqueue(c, &job)?)).await?;
    Ok(HttpResponse::Accepted().json(AcceptedEnvelope { data: Accepted { message: RESET_ACCEPTED.into() } }))
}

/// Set a new password with a token from a reset or invitation mail.
///
/// The token works once and also voids the user's other outstanding links.
/// Every session of the user is revoked. Unknown, expired, used and altered
/// tokens all get the same 400 naming `token`.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        (status = 400, description = "Bad token or weak password (see `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    body: crate::json::Json<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let PasswordResetConfirm { token, new_password } = body.into_inner();
    let bad_token = || ApiError::invalid("token", "is invalid, expired or already used");
    if token.is_empty() || token.len() > 200 {
        return Err(bad_token());
    }
    password::validate(&new_password).map_err(|m| ApiError::invalid("new_password", m))?;
    let hash = tokens::digest(token.trim());
    let lookup = hash.clone();
    // A bad token costs no password hashing.
    crate::db::run(&state.pool, move |c| Ok(recovery::find_usable(c, &lookup, crate::db::now())?))
        .await?
        .ok_or_else(bad_token)?;
    let password_hash = password::hash_async(new_password).await?;
    crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let now = crate::db::now();
            let user_id = recovery::redeem(c, &hash, now)?.ok_or_else(bad_token)?;
            let changes = crate::users::model::UserChanges {
                password_hash: Some(password_hash),
                updated_at: Some(now),
                ..Default::default()
            };
            users_repo::update(c, user_id, &changes)?;
            repo::revoke_user_sessions(c, user_id, now)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
