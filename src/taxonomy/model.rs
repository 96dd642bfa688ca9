//! Database rows for `categories` and `tags`, and the [`Term`] both become.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{categories, tags};

/// One `categories` row.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One `tags` row.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tags)]
pub struct TagRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A category or a tag, whichever table it came from. `parent_id` is always
/// `None` for tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// Row id.
    pub id: i64,
    /// Current slug.
    pub slug: String,
    /// Display name, plain text.
    pub name: String,
    /// Description, plain text.
    pub description: Option<String>,
    /// Parent category (categories only).
    pub parent_id: Option<i64>,
    /// SEO title override.
    pub meta_title: Option<String>,
    /// SEO description override.
    pub meta_description: Option<String>,
    /// UTC.
    pub created_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
}

impl From<CategoryRow> for Term {
    fn from(r: CategoryRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            name: r.name,
            description: r.description,
            parent_id: r.parent_id,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<TagRow> for Term {
    fn from(r: TagRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            name: r.name,
            description: r.description,
            parent_id: None,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
