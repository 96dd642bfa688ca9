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
}
