//! Wire types for categories and tags.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Term;
use super::service::TermInput;

/// A category; categories form a tree through `parent_id`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "slug": "city-hall", "name": "City hall", "description": null, "parent_id": 1, "meta_title": null, "meta_description": null}))]
pub struct Category {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, e.g. `world-news`; never all digits.
    pub slug: String,
    /// Display name, plain text.
    pub name: String,
    /// Description, plain text.
    pub description: Option<String>,
    /// The parent category's id; `null` for a top-level category.
    pub parent_id: Option<i64>,
    /// SEO title for the category's page; front ends fall back to `name`.
    pub meta_title: Option<String>,
    /// SEO description; front ends fall back to `description`.
    pub meta_description: Option<String>,
}

impl From<Term> for Category {
    fn from(t: Term) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            parent_id: t.parent_id,
            meta_title: t.meta_title,
            meta_description: t.meta_description,
        }
    }
}

/// A tag (flat, unlike categories).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "slug": "budget", "name": "budget", "description": null, "meta_title": null, "meta_description": null}))]
pub struct Tag {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name; never all digits.
    pub slug: String,
    /// Display name, plain text.
    pub name: String,
    /// Description, plain text.
    pub description: Option<String>,
    /// SEO title for the tag's page; front ends fall back to `name`.
    pub meta_title: Option<String>,
    /// SEO description; front ends fall back to `description`.
    pub meta_description: Option<String>,
}

impl From<Term> for Tag {
    fn from(t: Term) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            meta_title: t.meta_title,
            meta_description: t.meta_description,
        }
    }
}

/// A term named by numeric id or by slug (current or former), as articles
/// and merges accept them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TermKey {
    /// Numeric id.
    Id(i64),
    /// Slug.
    Slug(String),
}

/// `POST /categories` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "City hall", "parent_id": 1}))]
pub struct CreateCategory {
    /// 1–200 characters, plain text.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// Derived from the name when omitted.
    #[serde(default)]
    #[schema(pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At most 300 characters.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub meta_title: Option<String>,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub meta_description: Option<String>,
    /// Parent category id; top level when omitted.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
}

/// `POST /tags` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "budget"}))]
pub struct CreateTag {
    /// 1–200 characters, plain text.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// Derived from the name when omitted.
    #[serde(default)]
    #[schema(pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At most 300 characters.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub meta_title: Option<String>,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub meta_description: Option<String>,
}

/// `PATCH /categories/{category}` body.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"parent_id": null}))]
pub struct UpdateCategory {
    /// 1–200 characters.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// New slug; the old one keeps answering with a 301.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// SEO title, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub meta_title: Option<Option<String>>,
    /// SEO description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub meta_description: Option<Option<String>>,
    /// Parent category id, or `null` for top level. Not the category itself
    /// nor one of its descendants.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub parent_id: Option<Option<i64>>,
}

/// `PATCH /tags/{tag}` body.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Money matters."}))]
pub struct UpdateTag {
    /// 1–200 characters.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// New slug; the old one keeps answering with a 301.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// SEO title, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub meta_title: Option<Option<String>>,
    /// SEO description, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub meta_description: Option<Option<String>>,
}

impl From<CreateCategory> for TermInput {
    fn from(b: CreateCategory) -> Self {
        Self {
            name: Some(b.name),
            slug: b.slug,
            description: Some(b.description),
            meta_title: Some(b.meta_title),
            meta_description: Some(b.meta_description),
            parent_id: Some(b.parent_id),
        }
    }
}

impl From<CreateTag> for TermInput {
    fn from(b: CreateTag) -> Self {
        Self {
            name: Some(b.name),
            slug: b.slug,
            description: Some(b.description),
            meta_title: Some(b.meta_title),
            meta_description: Some(b.meta_description),
            parent_id: None,
        }
    }
}

impl From<UpdateCategory> for TermInput {
    fn from(b: UpdateCategory) -> Self {
        Self {
            name: b.name,
            slug: b.slug,
            description: b.description,
            meta_title: b.meta_title,
            meta_description: b.meta_description,
            parent_id: b.parent_id,
        }
    }
}

impl From<UpdateTag> for TermInput {
    fn from(b: UpdateTag) -> Self {
        Self {
            name: b.name,
            slug: b.slug,
            description: b.description,
            meta_title: b.meta_title,
            meta_description: b.meta_description,
            parent_id: None,
        }
    }
}

/// `POST /tags/{tag}/merge` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"into": "budget"}))]
pub struct MergeTag {
    /// The tag that survives, by id or slug; not the merged tag itself.
    pub into: TermKey,
}

/// What `DELETE /categories/{category}` changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedCategory {
    /// The deleted category's id.
    pub id: i64,
    /// Articles that were filed under it; they stay, without it.
    pub articles_detached: i64,
    /// Child categories moved up to its parent (or to the top level).
    pub children_moved: i64,
}

/// What `DELETE /tags/{tag}` changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedTag {
    /// The deleted tag's id.
    pub id: i64,
    /// Articles that were tagged with it; they stay, without it.
    pub articles_detached: i64,
}

/// What `POST /tags/{tag}/merge` did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergedTag {
    /// The surviving tag.
    pub into: Tag,
    /// The merged tag's former id.
    pub merged_id: i64,
    /// The merged tag's slug, which now answers 301 to the surviving tag.
    pub merged_slug: String,
    /// Articles newly filed under the surviving tag.
    pub articles_moved: i64,
}

crate::list_envelope!(CategoryList, Category, "A page of categories.");
crate::list_envelope!(TagList, Tag, "A page of tags.");
crate::data_envelope!(CategoryEnvelope, Category, "`{\"data\": Category}`");
crate::data_envelope!(TagEnvelope, Tag, "`{\"data\": Tag}`");
crate::data_envelope!(DeletedCategoryEnvelope, DeletedCategory, "`{\"data\": DeletedCategory}`");
crate::data_envelope!(DeletedTagEnvelope, DeletedTag, "`{\"data\": DeletedTag}`");
crate::data_envelope!(MergedTagEnvelope, MergedTag, "`{\"data\": MergedTag}`");
