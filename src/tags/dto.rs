//! Wire types for tags.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::TagRow;

/// A tag (flat, unlike categories).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "slug": "budget", "name": "budget", "description": null}))]
pub struct Tag {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description, plain text.
    pub description: Option<String>,
}

impl From<TagRow> for Tag {
    fn from(r: TagRow) -> Self {
        Self { id: r.id, slug: r.slug, name: r.name, description: r.description }
    }
}

crate::list_envelope!(TagList, Tag, "A page of tags.");
