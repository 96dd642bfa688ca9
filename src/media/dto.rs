//! Wire types for media.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::MediaRow;

/// A media record as served publicly.
#[derive(Debug, Serialize, ToSchema)]
pub struct Media {
    /// Numeric id.
    pub id: i64,
    /// Where the file can be fetched. For media imported from WordPress (which
    /// carries no file) this is the original `source_url`; `null` if unknown.
    pub url: Option<String>,
    /// Display file name (the last segment of the source URL for imports).
    pub file_name: String,
    /// MIME type, e.g. `image/jpeg`; for imports guessed from the file extension.
    pub mime_type: Option<String>,
    /// Size in bytes; `null` until the file itself is stored here.
    pub byte_size: Option<i64>,
    /// Width in pixels, for images; `null` when unknown.
    pub width: Option<i32>,
    /// Height in pixels, for images; `null` when unknown.
    pub height: Option<i32>,
    /// Title.
    pub title: Option<String>,
    /// Alternative text for screen readers (WXR `_wp_attachment_image_alt`).
    pub alt_text: Option<String>,
    /// Caption (WXR `excerpt:encoded` of the attachment).
    pub caption: Option<String>,
    /// Photographer or agency credit, e.g. `Jane Doe / Reuters`.
    pub credit: Option<String>,
    /// The original URL the file was imported from (WXR `wp:attachment_url`).
    pub source_url: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<MediaRow> for Media {
    fn from(r: MediaRow) -> Self {
        Self {
            id: r.id,
            url: r.source_url.clone(),
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
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

crate::data_envelope!(MediaEnvelope, Media, "`{\"data\": Media}`");
