//! HTTP handlers for `/api/v1/media`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use futures_util::TryStreamExt;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{FileBody, InUseProblem, Media, MediaEnvelope, MediaList, UpdateMedia, UploadMedia};
use super::model::{MediaChanges, MediaRow};
use super::{repo, service};
use crate::auth::{Action, AuthUser, Principal};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::json::Json;
use crate::pagination::{self, PageParams};

/// Query parameters of `GET /media`. Unknown parameters are a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMediaQuery {
    /// 1-based page number; default 1.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Only `image`, `audio`, `video` or `document` files.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<super::dto::MediaType>)]
    pub media_type: Option<String>,
    /// Only files uploaded by this user id.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub uploaded_by: Option<String>,
    /// Case-insensitive substring of title, alt text, caption or credit (≤ 200 characters).
    #[param(
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$",
        max_length = 200
    )]
    pub q: Option<String>,
    /// `-created_at` (default, newest first) or `created_at`.
    #[param(pattern = "^(-created_at|created_at)$")]
    pub sort: Option<String>,
}

/// Query parameters of `DELETE /media/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteMediaQuery {
    /// `true` detaches the file from every article and author first; without
    /// it, a file in use answers 409 listing them.
    #[param(value_type = Option<bool>)]
    pub force: Option<String>,
}

/// Whether `p` may edit or delete `row`: editors, admins and keys with
/// `media:write` any file; authors their own uploads.
fn require_manage(p: &Principal, row: &MediaRow) -> Result<(), ApiError> {
    if service::may_manage(p, row) {
        return Ok(());
    }
    p.require(Action::UploadMedia)?;
    Err(ApiError::Forbidden("only editors may change media uploaded by someone else".into()))
}

fn base(state: &AppState) -> &str {
    &state.settings.public_base_url
}

/// List the media library, newest first.
///
/// Staff only: any signed-in user, or an admin API key with `media:write`.
/// Content keys are refused: the library includes files for unpublished
/// articles. Two queries whatever the page size.
#[utoipa::path(
    tag = "media",
    params(ListMediaQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of media; `Link` header has first/prev/next/last", body = MediaList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A content API key, or an admin key without `media:write`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media")]
pub async fn list_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<ListMediaQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Principal::Key(_) = &auth.0 {
        auth.0.require(Action::UploadMedia)?;
    }
    let query = query.into_inner();
    let page = PageParams::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let kind = match query.media_type.as_deref() {
        None => None,
        Some(k @ ("image" | "audio" | "video" | "document")) => Some(k.to_owned()),
        Some(other) => {
            return Err(ApiError::invalid("type", format!("`{other}` is not one of image, audio, video, document")))
        }
    };
    let uploaded_by = match query.uploaded_by.as_deref() {
        None => None,
        Some(v) => Some(crate::http::extract::parse_id("uploaded_by", v)?),
    };
    let q = match query.q {
        Some(q) if q.trim().is_empty() => return Err(ApiError::invalid("q", "must not be empty")),
        Some(q) if q.chars().count() > 200 => return Err(ApiError::invalid("q", "must be at most 200 characters")),
        other => other.map(|q| q.trim().to_owned()),
    };
    let oldest_first = match query.sort.as_deref() {
        None | Some("-created_at") => false,
        Some("created_at") => true,
        Some(other) => return Err(ApiError::invalid("sort", format!("`{other}` is not -created_at or created_at"))),
    };
    let filter = repo::MediaFilter { kind, uploaded_by, q, oldest_first };
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &filter, &page)?)).await?;
    let meta = page.meta(total);
    let body = MediaList { data: rows.into_iter().map(|r| Media::build(r, base(&state))).collect(), meta };
    Ok(pagination::respond(base(&state), &req, &meta, &body))
}

/// Upload a file (`multipart/form-data`).
///
/// Authors and up, or keys with `media:write`. The type is detected from the
/// bytes and must be allowed; a file name or part `Content-Type` that
/// disagrees with the bytes is refused. Images get `sizes` (320/640/1280/2048
/// px wide, never upscaled). Two uploads of the same bytes share one stored
/// file but are separate records.
#[utoipa::path(
    tag = "media",
    request_body(content = UploadMedia, content_type = "multipart/form-data"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Stored; `Location` names the new record", body = MediaEnvelope),
        (status = 400, description = "Malformed multipart body, missing `file`, unknown or repeated part, or a bad text field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors, content keys and keys without `media:write` may not upload", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body stalled for `MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS` or took over 600 s", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over `MEDIA_MAX_BYTES` (refused while streaming; nothing is stored)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart, or a file type that is not allowed, unrecognised, or disagrees with its name or declared type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An image over `MEDIA_MAX_PIXELS` (checked before decoding), a broken image, or a polyglot (markup inside a binary file)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The caller already has 2 uploads in flight; `Retry-After` in seconds", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database or media storage unavailable, or every upload slot stayed busy for 10 s (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/media")]
pub async fn upload_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::UploadMedia)?;
    let uploader = match &auth.0 {
        Principal::User(u) => Some(u.id),
        Principal::Key(_) => None,
    };
    let media = &state.media;
    let caller = match &auth.0 {
        Principal::User(u) => format!("u{}", u.id),
        Principal::Key(k) => format!("k{}", k.id),
    };
    let Some(_mine) = media.caller_slot(caller) else {
        return Err(ApiError::TooManyRequests { retry_after_secs: 5 });
    };
    let _slot = match actix_web::rt::time::timeout(super::SLOT_WAIT, media.uploads.acquire()).await {
        Ok(slot) => slot.map_err(|e| ApiError::Internal(e.into()))?,
        Err(_) => return Err(ApiError::Busy { retry_after_secs: 10 }),
    };
    let received = service::receive(&req, payload, media.max_bytes, media.idle_timeout).await?;
    let row = service::store_upload(media, &state.pool, uploader, received).await?;
    let location = format!("{}/api/v1/media/{}", base(&state), row.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(MediaEnvelope { data: Media::build(row, base(&state)) }))
}

/// Get one media record by numeric id.
#[utoipa::path(
    tag = "media",
    params(("id" = i64, Path, description = "Media id", minimum = 1)),
    responses(
        (status = 200, description = "The media record", body = MediaEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}")]
pub async fn get_media(state: web::Data<AppState>, id: Id) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let row = crate::db::run(&state.pool, move |c| Ok(repo::find(c, id)?))
        .await
        .map_err(|e| e.with_not_found(format!("no media with id {id}")))?;
    Ok(HttpResponse::Ok().json(MediaEnvelope { data: Media::build(row, base(&state)) }))
}

fn checked(field: &str, v: Option<Option<String>>) -> Result<Option<Option<String>>, ApiError> {
    let limit = service::TEXT_LIMITS.iter().find(|(n, _)| *n == field).map(|(_, l)| *l).unwrap_or(300);
    match v {
        Some(Some(s)) if s.chars().count() > limit => {
            Err(ApiError::invalid(field, format!("must be at most {limit} characters")))
        }
        Some(Some(s)) if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Err(ApiError::invalid(field, "must not contain control characters"))
        }
        Some(Some(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(Some(s)) => Ok(Some(Some(s.trim().to_owned()))),
        other => Ok(other),
    }
}

/// Edit a media record's title, alt text, caption, credit or `shared` flag.
///
/// Editors, admins and keys with `media:write` edit any record; authors their
/// own uploads. Absent fields are left alone; `null` (or blank) clears one.
#[utoipa::path(
    tag = "media",
    params(("id" = i64, Path, description = "Media id", minimum = 1)),
    request_body = UpdateMedia,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The updated record", body = MediaEnvelope),
        (status = 400, description = "A bad id, body or field (unknown field, too long, not a string)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to edit this record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/media/{id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
    body: Json<UpdateMedia>,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let body = body.into_inner();
    let mut changes = MediaChanges {
        title: checked("title", body.title)?,
        alt_text: checked("alt_text", body.alt_text)?,
        caption: checked("caption", body.caption)?,
        credit: checked("credit", body.credit)?,
        shared: body.shared,
        search_text: None,
        updated_at: None,
    };
    let principal = auth.0;
    let row = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = repo::find(c, id)?;
            require_manage(&principal, &row)?;
            let nothing = changes.title.is_none()
                && changes.alt_text.is_none()
                && changes.caption.is_none()
                && changes.credit.is_none()
                && changes.shared.is_none();
            if nothing {
                return Ok(row);
            }
            changes.updated_at = Some(crate::db::now());
            let merged = |new: &Option<Option<String>>, old: &Option<String>| new.clone().unwrap_or(old.clone());
            changes.search_text = Some(repo::search_text([
                &merged(&changes.title, &row.title),
                &merged(&changes.alt_text, &row.alt_text),
                &merged(&changes.caption, &row.caption),
                &merged(&changes.credit, &row.credit),
            ]));
            let row = repo::update(c, id, &changes)?;
            crate::webhooks::media_changed(c, crate::webhooks::Event::MediaUpdated, &row)?;
            Ok(row)
        })
    })
    .await
    .map_err(|e| e.with_not_found(format!("no media with id {id}")))?;
    Ok(HttpResponse::Ok().json(MediaEnvelope { data: Media::build(row, base(&state)) }))
}

/// Delete a media record, and its stored file once nothing else uses it.
///
/// While articles (featured or Open Graph image) or authors (avatar) use it,
/// the answer is 409 listing them, unless `force=true`, which detaches it from
/// all of them in the same transaction (their articles get a new version);
/// forcing needs an editor (or `media:write` key), since it changes others'
/// articles.
/// The stored file and its variants are removed after the database change
/// commits, and only when no other record shares the same bytes.
#[utoipa::path(
    tag = "media",
    params(("id" = i64, Path, description = "Media id", minimum = 1), DeleteMediaQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A bad id or query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to delete this record, or to force-delete it while in use (editors only)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "In use; `references` lists the articles and authors", body = InUseProblem, content_type = "application/problem+json"),
    )
)]
#[delete("/media/{id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
    query: web::Query<DeleteMediaQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    let force = match query.force.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::invalid("force", format!("`{other}` is not true or false"))),
    };
    let principal = auth.0;
    let sha = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let row = repo::find(c, id)?;
            require_manage(&principal, &row)?;
            let refs = repo::references(c, id)?;
            let in_use = !refs.articles.is_empty() || !refs.authors.is_empty();
            if in_use && force && !principal.can(Action::ManageMedia) {
                return Err(ApiError::Forbidden(
                    "only editors may force-delete media that articles or authors use; detach it first".into(),
                ));
            }
            if in_use && !force {
                return Err(ApiError::InUse {
                    detail: format!(
                        "media {id} is in use by {} article(s) and {} author(s); delete with force=true to detach it first",
                        refs.articles.len(),
                        refs.authors.len()
                    ),
                    references: serde_json::to_value(&refs).map_err(anyhow::Error::from)?,
                });
            }
            if in_use {
                repo::detach(c, id, crate::db::now())?;
            }
            repo::delete(c, id)?;
            crate::webhooks::media_changed(c, crate::webhooks::Event::MediaDeleted, &row)?;
            Ok(row.sha256)
        })
    })
    .await
    .map_err(|e| e.with_not_found(format!("no media with id {id}")))?;
    if let Some(sha) = sha {
        service::collect_garbage(&state.media, &state.pool, sha).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Download the original file.
///
/// Content-addressed, so cached for a year (`immutable`). Supports a single
/// byte `Range` (206/416), `If-Range`, `If-None-Match` (304) and `HEAD`.
/// Sent with `X-Content-Type-Options: nosniff` and a sandboxing
/// `Content-Security-Policy`; anything but images, audio and video is an
/// attachment. With an S3 store and `MEDIA_SIGNED_REDIRECT_SECONDS`, the
/// answer is a 302 to a pre-signed URL instead.
#[utoipa::path(
    tag = "media",
    params(
        ("id" = i64, Path, description = "Media id", minimum = 1),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023` (RFC 9110 §14.2)"),
    ),
    responses(
        (status = 200, description = "The file, with its own type (`mime_type`: one of `MEDIA_ALLOWED_TYPES`)", content_type = "*/*", body = FileBody),
        (status = 206, description = "The requested byte range (`Content-Range` set)", content_type = "*/*", body = FileBody),
        (status = 302, description = "S3 with signed redirects: `Location` is a pre-signed URL"),
        (status = 304, description = "`If-None-Match` matched the `ETag`"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media, or it is not hosted here (WordPress imports: see `source_url`)", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the file (`Content-Range: bytes */{size}`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database or media storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}/file")]
pub async fn get_media_file(state: web::Data<AppState>, req: HttpRequest, id: Id) -> Result<HttpResponse, ApiError> {
    let id = id.get();
    serve(&state, &req, id, None).await
}

/// Download one resized variant of an image (`w320`, `w640`, `w1280`,
/// `w2048`), as listed in the record's `sizes`. Same headers as the original.
#[utoipa::path(
    tag = "media",
    params(
        ("id" = i64, Path, description = "Media id", minimum = 1),
        ("size" = String, Path, description = "Variant name from `sizes`, e.g. `w640`"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023` (RFC 9110 §14.2)"),
    ),
    responses(
        (status = 200, description = "The variant (`image/jpeg`, or `image/png` for images with transparency)", content_type = "*/*", body = FileBody),
        (status = 206, description = "The requested byte range (`Content-Range` set)", content_type = "*/*", body = FileBody),
        (status = 302, description = "S3 with signed redirects: `Location` is a pre-signed URL"),
        (status = 304, description = "`If-None-Match` matched the `ETag`"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media or no such variant", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the file (`Content-Range: bytes */{size}`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database or media storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}/file/{size}")]
pub async fn get_media_variant(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: Id,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, size) = path.into_inner();
    let id = id.get();
    // `original` is listed in `sizes`; its canonical URL is `/file`.
    serve(&state, &req, id, Some(size).filter(|s| s != "original")).await
}

/// One year, the longest `max-age` caches honour (RFC 9111 §5.2.2.1 advice).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Nothing in a served file may run script, load resources or navigate.
const FILE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

async fn serve(state: &AppState, req: &HttpRequest, id: i64, size: Option<String>) -> Result<HttpResponse, ApiError> {
    let row = crate::db::run(&state.pool, move |c| Ok(repo::find(c, id)?))
        .await
        .map_err(|e| e.with_not_found(format!("no media with id {id}")))?;
    let (Some(original_key), Some(sha)) = (row.storage_key.clone(), row.sha256.clone()) else {
        return Err(ApiError::NotFound(format!(
            "media {id} is not hosted here; it was imported and lives at its source_url"
        )));
    };
    let (key, mime, len, etag) = match &size {
        None => (
            original_key,
            row.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            row.byte_size.unwrap_or(0) as u64,
            format!("\"{sha}\""),
        ),
        Some(name) => {
            let v = row.stored_variants().into_iter().find(|v| &v.name == name).ok_or_else(|| {
                let shown: String = name.chars().take(50).collect();
                ApiError::NotFound(format!("media {id} has no variant `{shown}`"))
            })?;
            let etag = format!("\"{sha}-{}\"", v.name);
            (v.key, v.mime_type, v.byte_size as u64, etag)
        }
    };

    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, FILE_CSP))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let inline = matches!(super::process::kind_for(&mime), "image" | "audio" | "video");
    let disposition = header::ContentDisposition {
        disposition: if inline { header::DispositionType::Inline } else { header::DispositionType::Attachment },
        parameters: vec![header::DispositionParam::FilenameExt(header::ExtendedValue {
            charset: header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: row.file_name.clone().into_bytes(),
        })],
    };
    res.insert_header(disposition);

    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"))
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, IMMUTABLE))
            .finish());
    }

    // SVG and downloads are always served here, where the sandbox and
    // `Content-Disposition` headers are ours.
    let redirectable = inline && mime != "image/svg+xml";
    if let (Some(secs), true) = (state.media.signed_redirect_secs, redirectable) {
        if let Some(url) = state.media.store.signed_url(&key, secs).await {
            let url = url.map_err(|e| ApiError::StorageUnavailable(e.to_string()))?;
            return Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, url.to_string()))
                .insert_header((header::CACHE_CONTROL, format!("private, max-age={}", secs / 2)))
                .finish());
        }
    }

    let range = requested_range(req, &etag, len)?;
    let result = state.media.store.get(&key, range.clone()).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => {
            tracing::error!(media = id, key = %key, "stored file is missing");
            ApiError::NotFound(format!("the file of media {id} is missing from storage"))
        }
        other => ApiError::StorageUnavailable(other.to_string()),
    })?;
    let stream = result.into_stream().map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
    if let Some(r) = range {
        res.status(actix_web::http::StatusCode::PARTIAL_CONTENT);
        res.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{len}", r.start, r.end - 1)));
        return Ok(res.content_type(mime).no_chunking(r.end - r.start).streaming(stream));
    }
    Ok(res.content_type(mime).no_chunking(len).streaming(stream))
}

/// The byte range to send, if the request asks for exactly one that applies.
/// Several ranges, or an `If-Range` that does not match, get the whole file
/// (RFC 9110 §14.2 lets a server ignore `Range`); a range wholly outside the
/// file is a 416.
fn requested_range(req: &HttpRequest, etag: &str, len: u64) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    let Some(raw) = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    if let Some(if_range) = req.headers().get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        if if_range.trim() != etag {
            return Ok(None);
        }
    }
    let Ok(header::Range::Bytes(specs)) = raw.parse::<header::Range>() else { return Ok(None) };
    if specs.len() != 1 {
        return Ok(None);
    }
    match specs[0].to_satisfiable_range(len) {
        Some((start, end)) => Ok(Some(start..end + 1)),
        None => Err(ApiError::RangeNotSatisfiable { size: len }),
    }
}
