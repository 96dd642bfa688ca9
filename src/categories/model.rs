//! Database rows for `categories`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::categories;

/// One `categories` row.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
