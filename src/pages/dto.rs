//! Wire types for `/api/v1/pages`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::PageRow;

/// A page's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PageStatus {
    /// Seen only by editors.
    Draft,
    /// Public.
    Published,
}

impl PageStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => super::model::status::DRAFT,
            Self::Published => super::model::status::PUBLISHED,
        }
    }

    /// Reads the stored text (anything unknown is a draft: never public by mistake).
    pub fn from_stored(s: &str) -> Self {
        if s == super::model::status::PUBLISHED {
            Self::Published
        } else {
            Self::Draft
        }
    }
}

/// A page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    /// Numeric id.
    pub id: i64,
    /// Unique slug; never all digits.
    pub slug: String,
    /// Title, plain text.
    pub title: String,
    /// Sanitized HTML body.
    pub body_html: String,
    /// `draft` or `published`.
    pub status: PageStatus,
    /// The parent page's id (`null` at the top level).
    pub parent_id: Option<i64>,
    /// Position among siblings, ascending (WordPress `menu_order`).
    pub menu_order: i32,
    /// RFC 3339 UTC; `null` for a draft never published.
    pub published_at: Option<DateTime<Utc>>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<PageRow> for Page {
    fn from(r: PageRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            title: r.title,
            body_html: r.body_html,
            status: PageStatus::from_stored(&r.status),
            parent_id: r.parent_id,
            menu_order: r.menu_order,
            published_at: r.published_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// `POST /pages` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "About us", "body": "<p>Who we are.</p>", "status": "published"}))]
pub struct CreatePage {
    /// 1–200 characters, plain text.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000]*$")]
    pub title: String,
    /// Derived from the title when omitted.
    #[serde(default)]
    #[schema(pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// HTML, sanitized on save; at most 512 KiB.
    #[serde(default)]
    #[schema(max_length = 524288, pattern = "^[^\\u0000]*$")]
    pub body: String,
    /// Default `draft`.
    #[serde(default)]
    pub status: Option<PageStatus>,
    /// The parent page's id.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    /// 0–1000000; default 0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub menu_order: Option<i32>,
}

/// `PATCH /pages/{page}` body: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"menu_order": 2}))]
pub struct UpdatePage {
    /// 1–200 characters, plain text.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*$")]
    pub title: Option<String>,
    /// New slug.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// HTML, sanitized on save.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, max_length = 524288, pattern = "^[^\\u0000]*$")]
    pub body: Option<String>,
    /// `draft` or `published`.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false)]
    pub status: Option<PageStatus>,
    /// The parent page's id, or `null` for the top level.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub parent_id: Option<Option<i64>>,
    /// 0–1000000.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, minimum = 0, maximum = 1000000)]
    pub menu_order: Option<i32>,
}

crate::list_envelope!(PageList, Page, "A page of pages.");
crate::data_envelope!(PageEnvelope, Page, "`{\"data\": Page}`");
