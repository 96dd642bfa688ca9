//! Wire types for media.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::MediaRow;

/// What a media file is, from its MIME type.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// `image/*`.
    Image,
    /// `audio/*`.
    Audio,
    /// `video/*`.
    Video,
    /// Anything else (PDF).
    Document,
}

impl MediaType {
    /// From the stored `kind` column.
    pub fn from_kind(kind: &str) -> Self {
        match kind {
            "image" => Self::Image,
            "audio" => Self::Audio,
            "video" => Self::Video,
            _ => Self::Document,
        }
    }
}

/// One rendition of a media file, for `srcset`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "w640", "url": "https://news.example/api/v1/media/12/file/w640",
    "width": 640, "height": 427, "mime_type": "image/jpeg", "byte_size": 48211}))]
pub struct MediaSize {
    /// `w320`, `w640`, `w1280`, `w2048` (resized, never upscaled), or
    /// `original` (the uploaded file).
    pub name: String,
    /// Absolute URL (`PUBLIC_BASE_URL`); immutable, cacheable for a year.
    pub url: String,
    /// Pixels.
    pub width: i32,
    /// Pixels.
    pub height: i32,
    /// e.g. `image/jpeg`.
    pub mime_type: String,
    /// Bytes.
    pub byte_size: i64,
}

/// A media record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "url": "https://news.example/api/v1/media/12/file", "hosted": true,
    "file_name": "council-chamber.jpg", "mime_type": "image/jpeg", "media_type": "image", "byte_size": 2483112,
    "width": 4000, "height": 2667, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "title": "Council chamber", "alt_text": "Councillors seated around a horseshoe table",
    "caption": "The council votes on the budget.", "credit": "Jane Doe / Reuters", "source_url": null,
    "sizes": [{"name": "w640", "url": "https://news.example/api/v1/media/12/file/w640", "width": 640, "height": 427,
        "mime_type": "image/jpeg", "byte_size": 48211}],
    "uploaded_by": 3, "shared": false, "created_at": "2026-02-01T12:30:00Z", "updated_at": "2026-02-01T12:30:00Z"}))]
pub struct Media {
    /// Numeric id.
    pub id: i64,
    /// Where the file can be fetched: `/api/v1/media/{id}/file` (absolute) for
    /// uploads; for media imported from WordPress (which carries no file) the
    /// original `source_url`; `null` if unknown.
    pub url: Option<String>,
    /// `true` when the file is stored here; `false` for WordPress imports,
    /// whose file stays at `source_url`.
    pub hosted: bool,
    /// Display file name: the client's name with paths and control
    /// characters removed (≤ 200 characters); never used for storage.
    pub file_name: String,
    /// MIME type detected from the bytes, e.g. `image/jpeg`; for imports
    /// guessed from the file extension.
    pub mime_type: Option<String>,
    /// `image`, `audio`, `video` or `document`.
    pub media_type: MediaType,
    /// Size of the original in bytes; `null` for imports.
    pub byte_size: Option<i64>,
    /// Width in pixels (EXIF orientation applied), for images; `null` when unknown.
    pub width: Option<i32>,
    /// Height in pixels (EXIF orientation applied), for images; `null` when unknown.
    pub height: Option<i32>,
    /// Lowercase hex SHA-256 of the original; `null` for imports.
    pub sha256: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Alternative text for screen readers (WXR `_wp_attachment_image_alt`).
    pub alt_text: Option<String>,
    /// Caption (WXR `excerpt:encoded` of the attachment).
    pub caption: Option<String>,
    /// Photographer or agency credit, e.g. `Jane Doe / Reuters`.
    pub credit: Option<String>,
    /// The original URL the file was imported from (WXR `wp:attachment_url`);
    /// `null` for uploads.
    pub source_url: Option<String>,
    /// Renditions for `srcset`, narrowest first, ending with `original`; empty
    /// for imports and files without pixel dimensions.
    pub sizes: Vec<MediaSize>,
    /// Id of the user who uploaded it; `null` for imports, uploads made with an
    /// API key, or once that user is deleted.
    pub uploaded_by: Option<i64>,
    /// Whether any staff member may use it as an article's featured or Open
    /// Graph image or as an avatar. Otherwise only those who may edit it
    /// (its uploader, editors, keys with `media:write`) may. Imported media
    /// starts shared, uploads start unshared.
    pub shared: bool,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

/// Absolute URL of media `id`'s original file.
pub fn file_url(base_url: &str, id: i64) -> String {
    format!("{base_url}/api/v1/media/{id}/file")
}

/// The public URL of `row`: ours when hosted, else its source URL.
pub fn public_url(base_url: &str, row: &MediaRow) -> Option<String> {
    match row.storage_key {
        Some(_) => Some(file_url(base_url, row.id)),
        None => row.source_url.clone(),
    }
}

/// The `sizes` list of `row` (variants, then the original).
pub fn sizes(base_url: &str, row: &MediaRow) -> Vec<MediaSize> {
    if row.storage_key.is_none() {
        return Vec::new();
    }
    let (Some(width), Some(height)) = (row.width, row.height) else { return Vec::new() };
    let mut out: Vec<MediaSize> = row
        .stored_variants()
        .into_iter()
        .map(|v| MediaSize {
            url: format!("{}/{}", file_url(base_url, row.id), v.name),
            name: v.name,
            width: v.width,
            height: v.height,
            mime_type: v.mime_type,
            byte_size: v.byte_size,
        })
        .collect();
    out.push(MediaSize {
        name: "original".into(),
        url: file_url(base_url, row.id),
        width,
        height,
        mime_type: row.mime_type.clone().unwrap_or_default(),
        byte_size: row.byte_size.unwrap_or(0),
    });
    out
}

impl Media {
    /// The public view of `row`; URLs start with `base_url` (`PUBLIC_BASE_URL`).
    pub fn build(r: MediaRow, base_url: &str) -> Self {
        Self {
            id: r.id,
            url: public_url(base_url, &r),
            hosted: r.storage_key.is_some(),
            sizes: sizes(base_url, &r),
            media_type: MediaType::from_kind(&r.kind),
            sha256: r.sha256,
            file_name: r.file_name,
            mime_type: r.mime_type,
            byte_size: r.byte_size,
            width: r.width,
            height: r.height,
            title: r.title,
            alt_text: r.alt_text,
            caption: r.caption,
            credit: r.credit,
            source_url: r.source_url,
            uploaded_by: r.uploaded_by,
            shared: r.shared,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// `PATCH /media/{id}`: editable metadata. Absent fields are left alone;
/// `null` clears one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alt_text": "Councillors seated around a horseshoe table", "credit": "Jane Doe / Reuters"}))]
pub struct UpdateMedia {
    /// Title, ≤ 300 characters.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 300)]
    pub title: Option<Option<String>>,
    /// Alternative text, ≤ 1,000 characters.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 1000)]
    pub alt_text: Option<Option<String>>,
    /// Caption, ≤ 2,000 characters.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 2000)]
    pub caption: Option<Option<String>>,
    /// Credit, ≤ 300 characters.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 300)]
    pub credit: Option<Option<String>>,
    /// Let any staff member use it in their articles (see `Media.shared`).
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub shared: Option<bool>,
}

/// `POST /media`: a `multipart/form-data` body.
#[derive(Debug, ToSchema)]
pub struct UploadMedia {
    /// The file (one part). Its type is detected from the bytes and must be
    /// allowed (`MEDIA_ALLOWED_TYPES`); its name (display only) and part
    /// `Content-Type`, when given, must agree with the bytes. At most
    /// `MEDIA_MAX_BYTES` (default 25 MiB).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// Alternative text, ≤ 1,000 characters.
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 1000)]
    pub alt_text: Option<String>,
    /// Caption, ≤ 2,000 characters.
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 2000)]
    pub caption: Option<String>,
    /// Photographer or agency credit, ≤ 300 characters.
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 300)]
    pub credit: Option<String>,
    /// Title, ≤ 300 characters.
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$", max_length = 300)]
    pub title: Option<String>,
}

/// The bytes of a stored file (`GET /media/{id}/file`).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "documents the binary response body; never built")]
pub struct FileBody(Vec<u8>);

/// An article that refers to a media record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleRef {
    /// Article id.
    pub id: i64,
    /// Article slug.
    pub slug: String,
    /// Article title.
    pub title: String,
}

/// An author whose avatar is a media record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuthorRef {
    /// Author id.
    pub id: i64,
    /// Author slug.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// What refers to a media record: articles (featured or Open Graph image)
/// and authors (avatar).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct MediaReferences {
    /// Articles using it as featured or Open Graph image.
    pub articles: Vec<ArticleRef>,
    /// Authors using it as avatar.
    pub authors: Vec<AuthorRef>,
}

/// A 409 `in_use` problem: a [`Problem`] plus what still refers to the resource.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:broadsheet:problem:in_use",
    "title": "Conflict",
    "status": 409,
    "detail": "media 12 is in use by 1 article and 0 authors; delete with force=true to detach it first",
    "code": "in_use",
    "errors": [],
    "references": {"articles": [{"id": 59, "slug": "council-approves-budget", "title": "Council approves budget"}], "authors": []}
}))]
pub struct InUseProblem {
    /// The problem document.
    #[serde(flatten)]
    pub problem: crate::error::Problem,
    /// The articles and authors that refer to the resource.
    pub references: MediaReferences,
}

crate::data_envelope!(MediaEnvelope, Media, "`{\"data\": Media}`");
crate::list_envelope!(MediaList, Media, "A page of media records.");
