//! Page rows and forms.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::pages;

/// Page states, stored as `TEXT` with a `CHECK`.
pub mod status {
    /// Seen only by editors.
    pub const DRAFT: &str = "draft";
    /// Public.
    pub const PUBLISHED: &str = "published";
}

/// A stored page.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = pages)]
pub struct PageRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body_source: String,
    pub body_html: String,
    pub status: String,
    pub parent_id: Option<i64>,
    pub menu_order: i32,
    pub published_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PageRow {
    /// The strong ETag of this version: `"p{id}-v{version}"`.
    pub fn etag(&self) -> String {
        format!("\"p{}-v{}\"", self.id, self.version)
    }
}

/// The columns an editor (or an import) writes.
#[derive(Clone, Debug, Insertable, AsChangeset)]
#[diesel(table_name = pages, treat_none_as_null = true)]
pub struct PageForm {
    pub slug: String,
    pub title: String,
    pub body_source: String,
    pub body_html: String,
    pub status: String,
    pub parent_id: Option<i64>,
    pub menu_order: i32,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl PageForm {
    /// The form that rewrites `row` unchanged.
    pub fn of(row: &PageRow) -> Self {
        Self {
            slug: row.slug.clone(),
            title: row.title.clone(),
            body_source: row.body_source.clone(),
            body_html: row.body_html.clone(),
            status: row.status.clone(),
            parent_id: row.parent_id,
            menu_order: row.menu_order,
            published_at: row.published_at,
            updated_at: row.updated_at,
        }
    }
}
