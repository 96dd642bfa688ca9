//! Wire types for categories.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::CategoryRow;

/// A category; categories form a tree through `parent_id`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "slug": "city-hall", "name": "City hall", "description": null, "parent_id": 1}))]
pub struct Category {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, e.g. `world-news`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description, plain text.
    pub description: Option<String>,
    /// The parent category's id; `null` for a top-level category.
    pub parent_id: Option<i64>,
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Self {
        Self { id: r.id, slug: r.slug, name: r.name, description: r.description, parent_id: r.parent_id }
    }
}

crate::list_envelope!(CategoryList, Category, "A page of categories.");
