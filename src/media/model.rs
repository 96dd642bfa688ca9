//! Database rows for `media`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::media;

/// One `media` row.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i64,
    pub file_name: String,
    pub mime_type: Option<String>,
    pub byte_size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub title: Option<String>,
    pub alt_text: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub source_url: Option<String>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `image`, `audio`, `video` or `document`.
    pub kind: String,
    /// Hex SHA-256 of the stored file; `None` for imports (no file here).
    pub sha256: Option<String>,
    /// Object-store key of the original file; `None` for imports.
    pub storage_key: Option<String>,
    /// JSON array of [`StoredVariant`].
    pub variants: String,
    /// The user who uploaded it; `None` for imports or once the user is deleted.
    pub uploaded_by: Option<i64>,
    /// Any staff member may use it as a featured or Open Graph image
    /// (imported media starts shared; uploads start private to their owner).
    pub shared: bool,
}

impl MediaRow {
    /// The stored renditions (empty for imports and non-images).
    pub fn stored_variants(&self) -> Vec<StoredVariant> {
        serde_json::from_str(&self.variants).unwrap_or_default()
    }
}

/// One stored rendition, as kept in `media.variants` (JSON).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct StoredVariant {
    /// `w320`, `w640`, `w1280` or `w2048`.
    pub name: String,
    /// Pixels.
    pub width: i32,
    /// Pixels.
    pub height: i32,
    /// e.g. `image/jpeg`.
    pub mime_type: String,
    /// Bytes.
    pub byte_size: i64,
    /// Object-store key.
    pub key: String,
}

/// A media record for an uploaded file.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = media)]
pub struct NewUpload {
    pub file_name: String,
    pub mime_type: Option<String>,
    pub byte_size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub title: Option<String>,
    pub alt_text: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub kind: String,
    pub sha256: Option<String>,
    pub storage_key: Option<String>,
    pub variants: String,
    pub uploaded_by: Option<i64>,
    pub search_text: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Editable metadata; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = media)]
pub struct MediaChanges {
    pub title: Option<Option<String>>,
    pub alt_text: Option<Option<String>>,
    pub caption: Option<Option<String>>,
    pub credit: Option<Option<String>>,
    pub shared: Option<bool>,
    pub search_text: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Fields written when a media record is created or re-imported.
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct MediaForm {
    pub file_name: String,
    pub mime_type: Option<String>,
    pub title: Option<String>,
    pub alt_text: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub source_url: Option<String>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `image`, `audio`, `video` or `document` (from `mime_type`).
    pub kind: String,
    /// See [`crate::media::repo::search_text`].
    pub search_text: String,
}

/// The columns that describe a stored file (written with the record that
/// holds it; the type columns come with the record's own form).
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct StoredFile {
    pub byte_size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub sha256: Option<String>,
    pub storage_key: Option<String>,
    /// JSON array of [`StoredVariant`].
    pub variants: String,
}
