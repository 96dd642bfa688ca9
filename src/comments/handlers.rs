//! HTTP handlers for comments: the public thread, posting, the author's
//! edit window, moderation and votes.

use std::collections::HashMap;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{
    BulkResult, BulkResultEnvelope, BulkUpdate, Comment, CommentFormToken, CommentFormTokenEnvelope, CommentList,
    CreateComment, DecisionView, ModerationComment, ModerationCommentEnvelope, ModerationList, PostedComment,
    PostedCommentEnvelope, PublicQuery, QueueQuery, StateCounts, UpdateComment, VoteRequest, VoteTally,
    VoteTallyEnvelope,
};
use super::model::{kind, CommentRow, ModerationStatus};
use super::repo;
use super::service::{self, Moderation, Poster, Sort, Validated, Voter, EDIT_TOKEN_HEADER};
use crate::auth::{Action, AuthUser, MaybeAuthUser, Principal, Role};
use crate::config::FormTokenMode;
use crate::error::{ApiError, Problem};
use crate::http::{client_ip, AppState, Id, Key, Policy};
use crate::pagination::{self, PageParams};
use crate::readers::model::ReaderEmail;

/// The header carrying a verified reader's signed token.
pub const READER_TOKEN_HEADER: &str = "X-Reader-Token";

fn header<'a>(req: &'a HttpRequest, name: &str) -> Result<Option<&'a str>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim())).map_err(|_| ApiError::invalid(name, "is not visible ASCII")),
    }
}

/// List the approved comments of a published article, threaded.
///
/// Paged by top-level thread: each page holds `per_page` top-level comments
/// with all their replies, depth-first (`depth`, `parent_id`). A hidden
/// comment (pending, spam, trash or deleted by its author) that has shown
/// replies appears as a `[removed]` placeholder. Pingbacks and trackbacks
/// only with `include_pings=true`. An old slug of the article works. A
/// password-protected article shows an empty list.
#[utoipa::path(
    tag = "comments",
    params(("article" = String, Path, description = "Article id (all digits), slug or former slug"), PublicQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of threads; `Link` header has first/prev/next/last", body = CommentList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article here", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}/comments")]
pub async fn list_article_comments(
    state: web::Data<AppState>,
    req: HttpRequest,
    _auth: MaybeAuthUser,
    key: web::Path<String>,
    query: web::Query<PublicQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageParams::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let sort = match q.sort.as_deref() {
        None | Some("oldest") => Sort::Oldest,
        Some("newest") => Sort::Newest,
        Some("top") => Sort::Top,
        Some(_) => return Err(ApiError::invalid("sort", "must be oldest, newest or top")),
    };
    let pings = match q.include_pings.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("include_pings", "must be true or false")),
    };
    let key = key.into_inner();
    let now = crate::db::now();
    let (items, total, avatars) = crate::db::run(&state.pool, move |c| {
        let parsed = crate::slugs::IdOrSlug::parse(&key);
        let mut article = crate::articles::repo::find_by_key(c, &parsed)?;
        if article.is_none() {
            if let crate::slugs::IdOrSlug::Slug(s) = &parsed {
                article = crate::articles::repo::redirect_for(c, s)?.map(|(_, a)| a);
            }
        }
        let article = article
            .filter(|a| a.is_public(now))
            .ok_or_else(|| ApiError::NotFound(format!("no published article `{key}`")))?;
        if article.password_protected {
            // Like its body, a protected article's discussion is not public.
            return Ok((Vec::new(), 0, HashMap::new()));
        }
        let kinds: &[&str] = if pings { &[kind::COMMENT, kind::PINGBACK, kind::TRACKBACK] } else { &[kind::COMMENT] };
        let (items, total) = service::thread(repo::all_for_article(c, article.id, kinds)?, sort, &page);
        let avatars = service::avatar_keys(c, &items)?;
        Ok((items, total, avatars))
    })
    .await?;
    let meta = page.meta(total);
    let base = &state.settings.public_base_url;
    let data = items
        .into_iter()
        .map(|i| {
            let avatar = i.row.reader_id.and_then(|r| avatars.get(&r));
            Comment::from_item(i, avatar, base)
        })
        .collect();
    Ok(pagination::respond(base, &req, &meta, &CommentList { data, meta }))
}

/// Get a signed form token for a comment on an article.
///
/// Fetch it when the comment form is shown and send it as `form_token`
/// with the comment: it works once, for this article only, from
/// `usable_from` (a comment sent sooner is stored as spam) until
/// `expires_at`. Nothing is stored until a comment uses it. Never cached.
#[utoipa::path(
    tag = "comments",
    params(("article" = String, Path, description = "Article id (all digits), slug or former slug")),
    responses(
        (status = 200, description = "A fresh token (`Cache-Control: no-store`)", body = CommentFormTokenEnvelope,
            headers(("Cache-Control" = String, description = "`no-store`: every form gets its own token"))),
        (status = 403, description = "Comments are closed on this article", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "comments are closed on this article", "code": "forbidden", "errors": []})),
        (status = 404, description = "No published article here", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "no published article `no-such-slug`", "code": "not_found", "errors": []})),
    )
)]
#[get("/articles/{article}/comments/form-token")]
pub async fn get_comment_form_token(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let (article_id, secret) = crate::db::run(&state.pool, move |c| {
        let article = service::public_article(c, &key, crate::db::now())?;
        if article.comment_status != "open" {
            return Err(ApiError::Forbidden("comments are closed on this article".into()));
        }
        Ok((article.id, super::form::secret(c)?))
    })
    .await?;
    let issued = chrono::Utc::now();
    let cfg = &state.settings.comments;
    let data = CommentFormToken {
        form_token: super::form::issue(&secret, article_id, issued.timestamp_millis()),
        article_id,
        issued_at: issued,
        usable_from: issued + chrono::Duration::seconds(cfg.form_min_seconds),
        expires_at: issued + chrono::Duration::minutes(cfg.form_max_age_minutes),
    };
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(CommentFormTokenEnvelope { data }))
}

/// A generated avatar (SVG identicon) for an avatar key from a comment's `avatar_url`.
///
/// The image depends on the key alone, so it never changes: served with
/// `Cache-Control: public, max-age=31536000, immutable`. Reads no database.
#[utoipa::path(
    tag = "comments",
    params(("key" = String, Path, description = "An avatar key: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses(
        (status = 200, description = "The identicon", content_type = "image/svg+xml", body = String,
            headers(("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"))),
        (status = 404, description = "Not an avatar key (32 lowercase hex digits)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:not_found", "title": "Not Found", "status": 404, "detail": "`xyz` is not an avatar key", "code": "not_found", "errors": []})),
    )
)]
#[get("/avatars/{key}.svg")]
pub async fn get_avatar(key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let bytes = super::avatar::parse_key(&key).ok_or_else(|| {
        let shown: String = key.chars().take(40).collect();
        ApiError::NotFound(format!("`{shown}` is not an avatar key (32 lowercase hex digits)"))
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", super::avatar::CACHE_CONTROL))
        .insert_header(("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'"))
        .body(super::avatar::svg(&bytes)))
}

/// Post a comment on an article (readers and signed-in users).
///
/// Readers give `name` and `email`; an unverified address gets one
/// verification mail per `COMMENT_VERIFY_COOLDOWN_MINUTES`. Signed-in users
/// comment as themselves (marked `staff`, or `author` on their own article)
/// and are approved at once; API keys may not comment. A reader counts as
/// verified for the policy only with the `X-Reader-Token` of that address
/// (anyone can type a known commenter's address). The policy decides
/// the state (`pending`, `approved` or `spam`) and its reasons are in the
/// answer. The `edit_token` edits or deletes the comment for
/// `COMMENT_EDIT_WINDOW_MINUTES` (15). Nothing is stored on any error.
///
/// Readers send the single-use `form_token` from `GET …/comments/form-token`
/// (required unless `COMMENT_FORM_TOKEN=optional`; signed-in users need
/// none). A missing, forged, expired, reused or other-article token is a 400
/// naming `form_token`; a comment sent sooner than
/// `COMMENT_FORM_MIN_SECONDS` after the token's issue is stored as `spam`
/// with that reason. With the Akismet-compatible checker on, a comment the
/// built-in checks do not make spam is `pending` until the
/// `comment_spam_check` job has asked it.
#[utoipa::path(
    tag = "comments",
    params(
        ("article" = String, Path, description = "Article id (all digits), slug or former slug"),
        ("X-Reader-Token" = Option<String>, Header, description = "The token `POST /readers/verify` returned for this address: without it the address counts as unverified"),
    ),
    request_body = CreateComment,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored; `Location` is the comment", body = PostedCommentEnvelope),
        (status = 400, description = "A bad field: name, email, website, body (empty, too long, nested too deep), or a missing, forged, expired, reused or other-article `form_token` (see `errors`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:invalid_parameter", "title": "Bad Request", "status": 400, "detail": "form_token: has already been used; get a new one for each comment", "code": "invalid_parameter",
                "errors": [{"field": "form_token", "message": "has already been used; get a new one for each comment"}]})),
        (status = 401, description = "Bad credentials, or a forged `X-Reader-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Comments are closed on this article, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article here", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`parent_id` names no approved comment on this article, or nests too deep", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments from this address or for this email; see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:too_many_requests", "title": "Too Many Requests", "status": 429, "detail": "too many attempts; retry in 1200 s", "code": "too_many_requests", "errors": []})),
    )
)]
#[post("/articles/{article}/comments")]
pub async fn create_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    key: web::Path<String>,
    body: crate::json::Json<CreateComment>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let poster = match &auth.0 {
        Some(Principal::User(u)) => Poster::Staff { user_id: u.id, author_id: u.author_id },
        Some(Principal::Key(_)) => {
            return Err(ApiError::Forbidden("API keys may not comment; sign in as a user".into()))
        }
        None => Poster::Reader,
    };
    let (email, name) = match poster {
        Poster::Reader => {
            let name = service::parse_name(b.name.as_deref().unwrap_or(""))?;
            let email =
                ReaderEmail::parse(b.email.as_deref().unwrap_or("")).map_err(|m| ApiError::invalid("email", m))?;
            if !crate::mail::deliverable(&email.address) {
                return Err(ApiError::invalid("email", "is not an address we can write to"));
            }
            (Some(email), Some(name))
        }
        Poster::Staff { .. } => (None, b.name.as_deref().map(service::parse_name).transpose()?),
    };
    let website = service::parse_website(b.website.as_deref())?;
    let (source, html) = service::parse_body(&state.settings, &b.body)?;
    if b.parent_id.is_some_and(|p| p < 1) {
        return Err(ApiError::invalid("parent_id", "must be a positive integer"));
    }
    let form_token = match (&poster, b.form_token.as_deref().map(str::trim).filter(|t| !t.is_empty())) {
        (Poster::Staff { .. }, _) => None,
        (Poster::Reader, Some(t)) if t.len() > super::form::MAX_LEN => {
            return Err(ApiError::invalid(super::form::FIELD, "is not a valid form token"))
        }
        (Poster::Reader, Some(t)) => Some(t.to_owned()),
        (Poster::Reader, None) if state.settings.comments.form_token == FormTokenMode::Required => {
            return Err(ApiError::invalid(
                super::form::FIELD,
                "is required: get one from GET /api/v1/articles/{article}/comments/form-token",
            ))
        }
        (Poster::Reader, None) => None,
    };
    let kept_header = |name: &str| -> Option<String> {
        let v = req.headers().get(name)?.to_str().ok()?.trim();
        let mut end = v.len().min(super::akismet::MAX_HEADER);
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        Some(v[..end].to_owned()).filter(|v| !v.is_empty())
    };
    let ip = client_ip(&req, &state.settings);
    let account = match (&email, &poster) {
        (Some(e), _) => e.key.clone(),
        (None, Poster::Staff { user_id, .. }) => format!("user:{user_id}"),
        (None, Poster::Reader) => String::new(),
    };
    // Every request counts (never given back), per address and per email.
    state.limits.check(Policy::Comment, &[Key::Client(ip), Key::Account(&account)]).await?;
    let v = Validated {
        email,
        name,
        website,
        source,
        html,
        parent_id: b.parent_id,
        notify_replies: b.notify_replies,
        honeypot: b.homepage.is_some_and(|h| !h.trim().is_empty()),
        reader_token: match poster {
            Poster::Reader => header(&req, READER_TOKEN_HEADER)?.map(str::to_owned),
            Poster::Staff { .. } => None,
        },
        form_token,
        user_agent: kept_header("user-agent"),
        referrer: kept_header("referer"),
    };
    let settings = state.settings.clone();
    let key = key.into_inner();
    let posted =
        crate::db::write(&state.pool, move |c| c.transaction(|c| service::post(c, &settings, &key, &poster, &v, ip)))
            .await?;
    let edit_until = posted.row.created_at + chrono::Duration::minutes(state.settings.comments.edit_window_minutes);
    let data = PostedComment {
        id: posted.row.id,
        article_id: posted.row.article_id,
        parent_id: posted.row.parent_id,
        status: posted.row.status(),
        reasons: posted.reasons,
        edit_token: posted.edit_token,
        edit_until: edit_until.and_utc(),
        verification_sent: posted.verification_sent,
        body_html: posted.row.body,
    };
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("{}/api/v1/comments/{}", state.settings.public_base_url, data.id)))
        .insert_header(("cache-control", "no-store"))
        .json(PostedCommentEnvelope { data }))
}

fn decisions_by_comment(rows: Vec<repo::DecisionRow>) -> HashMap<i64, Vec<DecisionView>> {
    let mut out: HashMap<i64, Vec<DecisionView>> = HashMap::new();
    for (id, status, actor, reasons, at) in rows {
        out.entry(id).or_default().push(DecisionView {
            status,
            actor,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            created_at: at.and_utc(),
        });
    }
    out
}

fn moderation_views(
    c: &mut crate::db::DbConnection,
    rows: Vec<CommentRow>,
) -> Result<Vec<ModerationComment>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut decisions = decisions_by_comment(repo::decisions_for(c, &ids)?);
    Ok(rows
        .into_iter()
        .map(|r| {
            let d = decisions.remove(&r.id).unwrap_or_default();
            ModerationComment::from_row(r, d)
        })
        .collect())
}

/// The moderation queue, with counts per state.
///
/// Editors (and admin keys with `comments:moderate`) see every comment;
/// authors see the comments on articles they byline. Newest first. Emails
/// and client addresses are shown here and nowhere else.
#[utoipa::path(
    tag = "comments",
    params(QueueQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of comments and the counts per state", body = ModerationList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither a moderator nor an author with a profile", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`article` names no article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageParams::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            ModerationStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "must be pending, approved, spam or trash"))?,
        ),
    };
    let byline_author = if auth.0.can(Action::ModerateComments) {
        None
    } else {
        match &auth.0 {
            Principal::User(u) if u.role >= Role::Author && u.author_id.is_some() => u.author_id,
            _ => return Err(ApiError::Forbidden("only editors and authors see comment queues".into())),
        }
    };
    let article = q.article;
    let (data, total, counts) = crate::db::run(&state.pool, move |c| {
        let article_id = match article {
            None => None,
            Some(a) => Some(
                crate::articles::repo::find_by_key(c, &crate::slugs::IdOrSlug::parse(&a))?
                    .ok_or_else(|| ApiError::NotFound(format!("no article `{a}`")))?
                    .id,
            ),
        };
        let f = repo::QueueFilter { status, article_id, byline_author };
        let (rows, total) = repo::queue(c, &f, &page)?;
        let mut counts = StateCounts::default();
        for (s, n) in repo::queue_counts(c, &f)? {
            match s {
                ModerationStatus::Pending => counts.pending = n,
                ModerationStatus::Approved => counts.approved = n,
                ModerationStatus::Spam => counts.spam = n,
                ModerationStatus::Trash => counts.trash = n,
            }
        }
        Ok((moderation_views(c, rows)?, total, counts))
    })
    .await?;
    let meta = page.meta(total);
    let body = ModerationList { data, meta, counts };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Keeps `/comments/bulk` out of the `{id}` routes (see `subscriptions`).
fn not_bulk(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    !ctx.head().uri.path().trim_end_matches('/').ends_with("/bulk")
}

/// One comment as moderators see it, with every decision and its reasons.
#[utoipa::path(
    tag = "comments",
    params(("id" = i64, Path, description = "Comment id", minimum = 1)),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The comment", body = ModerationCommentEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May not moderate this article's comments", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/comments/{id}", guard = "not_bulk")]
pub async fn get_comment(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let data = crate::db::run(&state.pool, move |c| {
        let row = repo::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no comment {id}")))?;
        service::may_moderate(c, &auth.0, row.article_id)?;
        Ok(moderation_views(c, vec![row])?.remove(0))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ModerationCommentEnvelope { data }))
}

/// Edit a comment: its author (with `X-Edit-Token`, body only, within the
/// edit window) or a moderator (state, body, reason).
///
/// An author's edit to an approved comment is moderated again when
/// `COMMENT_REMODERATE_EDITS` is on. A moderator's state change is recorded
/// with its reason.
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("X-Edit-Token" = Option<String>, Header, description = "The author's edit token from the create answer"),
    ),
    request_body = UpdateComment,
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Changed", body = ModerationCommentEnvelope),
        (status = 400, description = "A bad field, or a forged, expired or replayed edit token (naming `X-Edit-Token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No edit token and not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May not moderate this article's comments, or the comment is spam/trash", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/comments/{id}", guard = "not_bulk")]
pub async fn update_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    id: Id,
    body: crate::json::Json<UpdateComment>,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let b = body.into_inner();
    let token = header(&req, EDIT_TOKEN_HEADER)?.map(str::to_owned);
    let text = b.body.as_deref().map(|s| service::parse_body(&state.settings, s)).transpose()?;
    let settings = state.settings.clone();
    let data = match token {
        Some(token) => {
            if b.status.is_some() || b.reason.is_some() {
                let field = if b.status.is_some() { "status" } else { "reason" };
                return Err(ApiError::invalid(field, "may be set by moderators only"));
            }
            let (source, html) = text.ok_or_else(|| ApiError::invalid("body", "is required"))?;
            crate::db::write(&state.pool, move |c| {
                c.transaction(|c| {
                    let row = service::edit_by_author(c, &settings, id, &token, &source, &html)?;
                    Ok::<_, ApiError>(moderation_views(c, vec![row])?.remove(0))
                })
            })
            .await?
        }
        None => {
            let p =
                auth.0.ok_or_else(|| ApiError::Unauthorized("sign in, or send the comment's X-Edit-Token".into()))?;
            let reason = b.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
            if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
                return Err(ApiError::invalid("reason", "is longer than 500 characters"));
            }
            let m = Moderation { status: b.status, body: text, reason };
            crate::db::write(&state.pool, move |c| {
                c.transaction(|c| {
                    let row = service::moderate(c, &settings, &p, id, &m)?;
                    Ok::<_, ApiError>(moderation_views(c, vec![row])?.remove(0))
                })
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(ModerationCommentEnvelope { data }))
}

/// Delete a comment: its author with `X-Edit-Token` within the edit window
/// (it stays as "[removed]" while it has replies), or a moderator (moved to
/// `trash`, recorded).
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("X-Edit-Token" = Option<String>, Header, description = "The author's edit token from the create answer"),
    ),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A forged, expired or replayed edit token (naming `X-Edit-Token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No edit token and not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May not moderate this article's comments", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}", guard = "not_bulk")]
pub async fn delete_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let token = header(&req, EDIT_TOKEN_HEADER)?.map(str::to_owned);
    let settings = state.settings.clone();
    match token {
        Some(token) => {
            crate::db::write(&state.pool, move |c| {
                c.transaction(|c| service::remove_by_author(c, &settings, id, &token))
            })
            .await?
        }
        None => {
            let p =
                auth.0.ok_or_else(|| ApiError::Unauthorized("sign in, or send the comment's X-Edit-Token".into()))?;
            let m = Moderation { status: Some(ModerationStatus::Trash), body: None, reason: None };
            crate::db::write(&state.pool, move |c| {
                c.transaction(|c| service::moderate(c, &settings, &p, id, &m).map(drop))
            })
            .await?
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Change the state of several comments at once (moderators).
///
/// All or nothing: every id must be a comment the caller may moderate.
#[utoipa::path(
    tag = "comments",
    request_body = BulkUpdate,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Changed", body = BulkResultEnvelope),
        (status = 400, description = "No ids, more than 100, or a bad field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May not moderate one of these comments", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An id names no comment (`errors[].field` is `ids[i]`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/comments/bulk")]
pub async fn bulk_update_comments(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<BulkUpdate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    if b.ids.is_empty() || b.ids.len() > service::MAX_BULK {
        return Err(ApiError::invalid("ids", format!("must hold 1 to {} ids", service::MAX_BULK)));
    }
    let reason = b.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid("reason", "is longer than 500 characters"));
    }
    let mut ids = b.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let p = auth.0;
    let status = b.status;
    let all = b.ids;
    let settings = state.settings.clone();
    let updated = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let found: std::collections::HashSet<i64> =
                repo::find_many(c, &ids)?.into_iter().filter(|r| r.kind == kind::COMMENT).map(|r| r.id).collect();
            if let Some(i) = all.iter().position(|id| !found.contains(id)) {
                return Err(ApiError::unprocessable(format!("ids[{i}]"), "names no comment"));
            }
            let m = Moderation { status: Some(status), body: None, reason: reason.clone() };
            for id in &ids {
                service::moderate(c, &settings, &p, *id, &m)?;
            }
            Ok::<_, ApiError>(ids.len())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(BulkResultEnvelope { data: BulkResult { updated } }))
}

/// The voter, after the shared limiter has counted the request: per client
/// address first (so unidentified callers are counted too), then per voter.
async fn voter(state: &AppState, req: &HttpRequest, auth: &MaybeAuthUser) -> Result<Voter, ApiError> {
    let ip = client_ip(req, &state.settings);
    state.limits.check(Policy::Vote, &[Key::Client(ip)]).await?;
    let v = identify_voter(state, req, auth).await?;
    state.limits.check(Policy::Vote, &[Key::Account(&v.key())]).await?;
    Ok(v)
}

async fn identify_voter(state: &AppState, req: &HttpRequest, auth: &MaybeAuthUser) -> Result<Voter, ApiError> {
    if let Some(token) = header(req, READER_TOKEN_HEADER)?.map(str::to_owned) {
        let reader = crate::db::run(&state.pool, move |c| crate::readers::service::by_signed_token(c, &token)).await?;
        return Ok(Voter::Reader(reader.id));
    }
    match &auth.0 {
        Some(Principal::User(u)) => Ok(Voter::User(u.id)),
        Some(Principal::Key(_)) => Err(ApiError::Forbidden("API keys may not vote".into())),
        None => Err(ApiError::Unauthorized("votes need a verified reader (X-Reader-Token) or a signed-in user".into())),
    }
}

fn tally(t: service::Tally) -> VoteTallyEnvelope {
    VoteTallyEnvelope { data: VoteTally { up_count: t.up, down_count: t.down, score: t.score, my_vote: t.mine } }
}

/// Vote on an approved comment: `1` up or `-1` down.
///
/// One vote per voter (a verified reader with `X-Reader-Token`, or a
/// signed-in user); voting again changes it. Nobody votes on their own
/// comment. Counters change atomically. Vote requests (and take-backs) are
/// limited per client address (300) and per voter (60) per 10 minutes.
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("X-Reader-Token" = Option<String>, Header, description = "A verified reader's token (from `POST /readers/verify`)"),
    ),
    request_body = VoteRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The counters after the vote", body = VoteTallyEnvelope),
        (status = 400, description = "`value` is not 1 or -1", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No voter: a forged reader token, or neither token nor sign-in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An own comment, an unverified reader, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No approved comment here", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many vote requests from this address or by this voter; see `Retry-After`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:broadsheet:problem:too_many_requests", "title": "Too Many Requests", "status": 429, "detail": "too many attempts; retry in 540 s", "code": "too_many_requests", "errors": []})),
    )
)]
#[post("/comments/{id}/votes")]
pub async fn vote_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    id: Id,
    body: crate::json::Json<VoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let value = body.into_inner().value;
    if value != 1 && value != -1 {
        return Err(ApiError::invalid("value", "must be 1 or -1"));
    }
    let v = voter(&state, &req, &auth).await?;
    let t = crate::db::write(&state.pool, move |c| c.transaction(|c| service::vote(c, &v, id, value))).await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(tally(t)))
}

/// Take one's vote on a comment back (nothing happens when there is none).
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("X-Reader-Token" = Option<String>, Header, description = "A verified reader's token (from `POST /readers/verify`)"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The counters after taking the vote back", body = VoteTallyEnvelope),
        (status = 401, description = "No voter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An own comment, an unverified reader, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No approved comment here", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many vote requests from this address or by this voter; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}/votes")]
pub async fn unvote_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthUser,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let v = voter(&state, &req, &auth).await?;
    let t = crate::db::write(&state.pool, move |c| c.transaction(|c| service::unvote(c, &v, id))).await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(tally(t)))
}
