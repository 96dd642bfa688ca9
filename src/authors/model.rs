//! Database rows for `authors`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::authors;

/// One `authors` row. `email` is private and never serialized publicly.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = authors)]
pub struct AuthorRow {
    pub id: i64,
    pub slug: String,
    pub display_name: String,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub website: Option<String>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub avatar_media_id: Option<i64>,
    pub social_links: String,
}

/// Changes to an author; `None` leaves a column alone, `Some(None)` nulls it.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = authors)]
pub struct AuthorChanges {
    pub slug: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_media_id: Option<Option<i64>>,
    pub website: Option<Option<String>>,
    pub social_links: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Fields written when an author is imported.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct NewAuthor {
    pub slug: String,
    pub display_name: String,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
