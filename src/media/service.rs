//! Media use cases that span the request body, the object store and the
//! database: receiving an upload, storing it, deleting it.
//!
//! Ordering rules (so a file is never lost nor left behind for long):
//! - Upload: the objects are written first (content-addressed, so writing the
//!   same bytes twice is harmless), then the row is inserted in a transaction
//!   that holds the per-file lock ([`repo::lock_file`]) and re-checks that the
//!   original object still exists (a concurrent delete may have collected it),
//!   writing it again if not.
//! - Delete: the row goes first (committed); then, under the same lock, the
//!   objects are removed only when no other row uses the same file.

use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use sha2::Digest;

use super::model::{MediaRow, NewUpload, StoredVariant};
use super::{process, repo, MediaState};
use crate::error::ApiError;

/// A received `multipart/form-data` upload, not yet checked.
#[derive(Debug)]
pub struct Received {
    /// The file's bytes.
    pub bytes: bytes::Bytes,
    /// The client's file name (raw; sanitized before use).
    pub file_name: Option<String>,
    /// The part's `Content-Type`, if sent.
    pub declared: Option<String>,
    /// `title` field.
    pub title: Option<String>,
    /// `alt_text` field.
    pub alt_text: Option<String>,
    /// `caption` field.
    pub caption: Option<String>,
    /// `credit` field.
    pub credit: Option<String>,
}

/// Allowance for multipart framing and the text fields on top of
/// `MEDIA_MAX_BYTES` when checking `Content-Length` up front.
const FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// Longest accepted value of each text field, in characters.
pub const TEXT_LIMITS: [(&str, usize); 4] = [("title", 300), ("alt_text", 1000), ("caption", 2000), ("credit", 300)];

fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLargeField {
        detail: format!("file is larger than the {max}-byte limit (MEDIA_MAX_BYTES)"),
        field: "file".into(),
    }
}

fn not_multipart() -> ApiError {
    ApiError::UnsupportedMediaType {
        detail: "uploads must be sent as multipart/form-data".into(),
        errors: vec![crate::error::FieldError {
            field: "Content-Type".into(),
            message: "must be multipart/form-data with a boundary".into(),
        }],
    }
}

/// The longest an upload may take in all (408): 25 MiB at ~350 kbit/s.
pub const TOTAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The next item of `stream`, or a 408 when it stays silent for `idle`.
async fn next_or_timeout<S: futures_util::Stream + Unpin>(
    stream: &mut S,
    idle: std::time::Duration,
) -> Result<Option<S::Item>, ApiError> {
    actix_web::rt::time::timeout(idle, stream.next())
        .await
        .map_err(|_| ApiError::RequestTimeout(format!("the upload sent nothing for {} s", idle.as_secs())))
}

fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError as E;
    match e {
        E::ContentTypeMissing | E::ContentTypeParse | E::ContentTypeIncompatible => ApiError::UnsupportedMediaType {
            detail: "uploads must be sent as multipart/form-data".into(),
            errors: vec![],
        },
        other => ApiError::invalid("body", format!("is not valid multipart/form-data ({other})")),
    }
}

/// Checks a text field's value: UTF-8, no NUL, within its length limit.
/// Empty or whitespace-only values are `None`.
fn text_field(name: &str, raw: &[u8]) -> Result<Option<String>, ApiError> {
    let limit = TEXT_LIMITS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l).unwrap_or(300);
    let s = std::str::from_utf8(raw).map_err(|_| ApiError::invalid(name, "must be UTF-8 text"))?;
    if s.contains('\0') {
        return Err(ApiError::invalid(name, "must not contain NUL characters"));
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ApiError::invalid(name, "must not contain control characters"));
    }
    if s.chars().count() > limit {
        return Err(ApiError::invalid(name, format!("must be at most {limit} characters")));
    }
    let t = s.trim();
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Reads the multipart body: exactly one `file` part (at most `max_bytes`,
/// counted as it streams in: the 413 comes as soon as the limit is passed,
/// and nothing has been written anywhere) and optional `title`, `alt_text`,
/// `caption`, `credit` parts. Unknown or repeated parts are a 400; a body
/// that stalls for `idle` or takes longer than [`TOTAL_TIMEOUT`] is a 408.
pub async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    max_bytes: u64,
    idle: std::time::Duration,
) -> Result<Received, ApiError> {
    actix_web::rt::time::timeout(TOTAL_TIMEOUT, receive_parts(req, payload, max_bytes, idle))
        .await
        .map_err(|_| ApiError::RequestTimeout(format!("the upload took longer than {} s", TOTAL_TIMEOUT.as_secs())))?
}

async fn receive_parts(
    req: &HttpRequest,
    payload: web::Payload,
    max_bytes: u64,
    idle: std::time::Duration,
) -> Result<Received, ApiError> {
    use actix_web::http::header;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(not_multipart());
    }
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > max_bytes + FRAMING_ALLOWANCE) {
        return Err(too_large(max_bytes));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut out = Received {
        bytes: bytes::Bytes::new(),
        file_name: None,
        declared: None,
        title: None,
        alt_text: None,
        caption: None,
        credit: None,
    };
    let mut seen: Vec<String> = Vec::new();
    while let Some(field) = next_or_timeout(&mut multipart, idle).await? {
        let mut field = field.map_err(multipart_error)?;
        let name = field.name().unwrap_or("").to_owned();
        if seen.contains(&name) {
            return Err(ApiError::invalid(name, "is given more than once"));
        }
        let limit = match name.as_str() {
            "file" => max_bytes,
            "title" | "alt_text" | "caption" | "credit" => 4 * 2000 + 4,
            other => {
                let shown: String = other.chars().take(50).collect();
                return Err(ApiError::invalid(shown, "is not a known field (file, title, alt_text, caption, credit)"));
            }
        };
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = next_or_timeout(&mut field, idle).await? {
            let chunk = chunk.map_err(multipart_error)?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(if name == "file" { too_large(max_bytes) } else { ApiError::invalid(name, "is too long") });
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" => {
                out.file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_owned);
                out.declared = field.content_type().map(|m| m.essence_str().to_owned());
                out.bytes = buf.freeze();
            }
            "title" => out.title = text_field("title", &buf)?,
            "alt_text" => out.alt_text = text_field("alt_text", &buf)?,
            "caption" => out.caption = text_field("caption", &buf)?,
            _ => out.credit = text_field("credit", &buf)?,
        }
        seen.push(name);
    }
    if !seen.iter().any(|n| n == "file") {
        return Err(ApiError::invalid("file", "is required (a multipart part named `file`)"));
    }
    Ok(out)
}

fn storage_error(e: object_store::Error) -> ApiError {
    ApiError::StorageUnavailable(e.to_string())
}

/// Object key of a stored file: `{sha[0..2]}/{sha}/{name}.{ext}`.
pub fn object_key(sha256: &str, name: &str, ext: &str) -> String {
    format!("{}/{sha256}/{name}.{ext}", &sha256[..2])
}

/// Checks `received` against the policy, makes its variants, writes the
/// objects and inserts the record. Decoding runs on the blocking pool, at
/// most one image per core at once.
pub async fn store_upload(
    media: &MediaState,
    pool: &crate::db::Pool,
    uploader: Option<i64>,
    received: Received,
) -> Result<MediaRow, ApiError> {
    let _permit = media.processing.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
    let policy = media.policy.clone();
    let bytes = received.bytes.clone();
    let file_name = received.file_name.clone();
    let declared = received.declared.clone();
    let (inspected, sha256) = web::block(move || {
        let inspected = process::inspect(&bytes, file_name.as_deref(), declared.as_deref(), &policy)?;
        let sha256 = hex::encode(sha2::Sha256::digest(&inspected.stored));
        Ok::<_, ApiError>((inspected, sha256))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))??;
    drop(_permit);

    let meta = received_meta(received);
    let result = write_and_insert(media, pool, inspected, sha256.clone(), move |c, file| {
        let now = crate::db::now();
        let form = NewUpload {
            search_text: super::repo::search_text([&meta.title, &meta.alt_text, &meta.caption, &meta.credit]),
            file_name: meta.file_name,
            mime_type: Some(file.mime_type),
            byte_size: file.columns.byte_size,
            width: file.columns.width,
            height: file.columns.height,
            title: meta.title,
            alt_text: meta.alt_text,
            caption: meta.caption,
            credit: meta.credit,
            kind: file.kind.to_owned(),
            sha256: file.columns.sha256,
            storage_key: file.columns.storage_key,
            variants: file.columns.variants,
            uploaded_by: uploader,
            created_at: now,
            updated_at: now,
        };
        repo::insert_upload(c, &form)
    })
    .await;
    if result.is_err() {
        // Whatever was written is unused unless another record shares it.
        collect_garbage(media, pool, sha256).await;
    }
    result
}

/// The text fields of an upload.
struct Meta {
    file_name: String,
    title: Option<String>,
    alt_text: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
}

fn received_meta(r: Received) -> Meta {
    Meta {
        file_name: process::sanitize_file_name(r.file_name.as_deref().unwrap_or("upload")),
        title: r.title,
        alt_text: r.alt_text,
        caption: r.caption,
        credit: r.credit,
    }
}

/// A checked file downloaded by an import (`broadsheet import wordpress
/// --media download`): the same checks, variants and ordering as an upload,
/// but the record written is the import's own (`form`, keyed by its import
/// source and key), created or given the file. Objects of a file the record
/// held before and no record uses any more are collected.
///
/// Errors: as [`store_upload`] (the file is refused, storage or the database fails).
pub async fn store_import(
    media: &MediaState,
    pool: &crate::db::Pool,
    bytes: bytes::Bytes,
    file_name: String,
    mut form: super::model::MediaForm,
) -> Result<MediaRow, ApiError> {
    let _permit = media.processing.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
    let policy = media.policy.clone();
    let (inspected, sha256) = web::block(move || {
        // No declared type: servers label files loosely (octet-stream, text/plain).
        let inspected = process::inspect(&bytes, Some(&file_name), None, &policy)?;
        let sha256 = hex::encode(sha2::Sha256::digest(&inspected.stored));
        Ok::<_, ApiError>((inspected, sha256))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))??;
    drop(_permit);
    form.mime_type = Some(inspected.mime_type.clone());
    form.kind = inspected.kind.to_owned();
    let previous = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = previous.clone();
    let result = write_and_insert(media, pool, inspected, sha256.clone(), move |c, file| {
        let (row, old) = repo::upsert_imported_file(c, &form, &file.columns)?;
        *seen.lock().unwrap_or_else(|e| e.into_inner()) = old;
        Ok(row)
    })
    .await;
    let old = previous.lock().unwrap_or_else(|e| e.into_inner()).take();
    if result.is_err() {
        collect_garbage(media, pool, sha256).await;
    } else if let Some(old) = old.filter(|o| *o != sha256) {
        collect_garbage(media, pool, old).await;
    }
    result
}

/// What [`write_and_insert`] hands the record writer: the checked file's
/// type and the columns that describe the stored objects.
struct CheckedFile {
    mime_type: String,
    kind: &'static str,
    columns: super::model::StoredFile,
}

/// Writes the original and its variants, then writes the record with
/// `insert` under the per-file lock (re-writing the objects if a concurrent
/// delete collected them).
async fn write_and_insert<F>(
    media: &MediaState,
    pool: &crate::db::Pool,
    inspected: process::Inspected,
    sha256: String,
    insert: F,
) -> Result<MediaRow, ApiError>
where
    F: FnOnce(&mut crate::db::DbConnection, CheckedFile) -> diesel::QueryResult<MediaRow> + Send + 'static,
{
    let original_key = object_key(&sha256, "original", inspected.extension);
    let mut objects: Vec<(String, bytes::Bytes, String)> =
        vec![(original_key.clone(), inspected.stored.clone(), inspected.mime_type.clone())];
    let mut variants = Vec::new();
    for v in &inspected.variants {
        let ext = if v.mime_type == "image/png" { "png" } else { "jpg" };
        let key = object_key(&sha256, &v.name, ext);
        objects.push((key.clone(), v.bytes.clone(), v.mime_type.to_owned()));
        variants.push(StoredVariant {
            name: v.name.clone(),
            width: v.width as i32,
            height: v.height as i32,
            mime_type: v.mime_type.to_owned(),
            byte_size: v.bytes.len() as i64,
            key,
        });
    }
    for (key, bytes, mime) in &objects {
        media.store.put(key, bytes.clone(), mime).await.map_err(storage_error)?;
    }
    let file = CheckedFile {
        mime_type: inspected.mime_type.clone(),
        kind: inspected.kind,
        columns: super::model::StoredFile {
            byte_size: Some(inspected.stored.len() as i64),
            width: inspected.width.map(|w| w as i32),
            height: inspected.height.map(|h| h as i32),
            sha256: Some(sha256.clone()),
            storage_key: Some(original_key.clone()),
            variants: serde_json::to_string(&variants).map_err(|e| ApiError::Internal(e.into()))?,
        },
    };
    let store = media.store.clone();
    let rt = tokio::runtime::Handle::current();
    crate::db::write(pool, move |c| {
        use diesel::Connection;
        c.transaction(|c| {
            repo::lock_file(c, &sha256)?;
            let row = insert(c, file)?;
            crate::webhooks::media_changed(c, crate::webhooks::Event::MediaCreated, &row)?;
            // A delete of the last other record of this file may have
            // collected the objects between our writes and this lock.
            if !rt.block_on(store.exists(&original_key)).map_err(storage_error)? {
                for (key, bytes, mime) in &objects {
                    rt.block_on(store.put(key, bytes.clone(), mime)).map_err(storage_error)?;
                }
            }
            Ok(row)
        })
    })
    .await
}

/// Removes the objects of file `sha256` when no record uses it any more.
/// Failures are logged: a leftover object is harmless (content-addressed,
/// reused by a later upload of the same bytes).
pub async fn collect_garbage(media: &MediaState, pool: &crate::db::Pool, sha256: String) {
    let store = media.store.clone();
    let rt = tokio::runtime::Handle::current();
    let sha = sha256.clone();
    let result = crate::db::write(pool, move |c| {
        use diesel::Connection;
        c.transaction(|c| {
            repo::lock_file(c, &sha)?;
            if repo::count_with_hash(c, &sha)? > 0 {
                return Ok(0);
            }
            let keys = rt.block_on(store.list(&format!("{}/{sha}/", &sha[..2]))).map_err(storage_error)?;
            for key in &keys {
                rt.block_on(store.delete(key)).map_err(storage_error)?;
            }
            Ok(keys.len())
        })
    })
    .await;
    match result {
        Ok(n) => tracing::debug!(sha256 = %sha256, removed = n, "media objects collected"),
        Err(e) => tracing::warn!(sha256 = %sha256, error = %e, "media objects could not be removed"),
    }
}

/// Whether `p` may edit or delete `row`: editors, admins and keys with
/// `media:write` any record, authors their own uploads.
pub fn may_manage(p: &crate::auth::Principal, row: &super::model::MediaRow) -> bool {
    use crate::auth::{Action, Principal};
    p.can(Action::ManageMedia)
        || (p.can(Action::UploadMedia) && matches!(p, Principal::User(u) if row.uploaded_by == Some(u.id)))
}

/// Whether `p` may make `row` an article's featured or Open Graph image, or
/// an author's avatar: anyone who may edit it, and any staff member when it
/// is shared. Using someone's unshared photo would also stop them from
/// deleting it (a 409 `in_use`), so it needs their consent: `shared`.
pub fn may_use(p: &crate::auth::Principal, row: &super::model::MediaRow) -> bool {
    row.shared || may_manage(p, row)
}
