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
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
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
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
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

/// One stored page revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageRevision {
    /// Revision id.
    pub id: i64,
    /// The user who made it; `null` for API keys or deleted users.
    pub user_id: Option<i64>,
    /// Names of the fields this revision changed (`created` for the first).
    pub changed_fields: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

impl From<super::repo::RevisionMeta> for PageRevision {
    fn from((id, user_id, changed, at): super::repo::RevisionMeta) -> Self {
        Self {
            id,
            user_id,
            changed_fields: changed.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            created_at: at.and_utc(),
        }
    }
}

/// A page's editable content as a revision stored it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageSnapshot {
    /// Title, plain text.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// The body as written (HTML, sanitized when saved).
    pub body_source: String,
    /// `draft` or `published`.
    pub status: PageStatus,
    /// The parent page's id.
    pub parent_id: Option<i64>,
    /// Position among siblings.
    pub menu_order: i32,
}

impl From<&super::service::PageState> for PageSnapshot {
    fn from(st: &super::service::PageState) -> Self {
        Self {
            title: st.title.clone(),
            slug: st.slug.clone(),
            body_source: st.body_source.clone(),
            status: PageStatus::from_stored(&st.status),
            parent_id: st.parent_id,
            menu_order: st.menu_order,
        }
    }
}

/// One revision in full, with a field-by-field diff against the current
/// version (what a restore would change, except `status`, which it keeps).
#[derive(Debug, Serialize, ToSchema)]
pub struct PageRevisionDetail {
    /// The revision.
    #[serde(flatten)]
    pub revision: PageRevision,
    /// The page as this revision stored it.
    pub snapshot: PageSnapshot,
    /// The page's current version (its `ETag` is `"p{id}-v{version}"`).
    pub current_version: i32,
    /// Fields whose value differs from the current version, by field name;
    /// empty when the revision matches the page as it is now.
    pub diff: Vec<crate::articles::dto::FieldDiff>,
}

impl PageRevisionDetail {
    /// The diff of `rev` against `current`, field by field.
    pub fn diff(rev: &PageSnapshot, current: &PageSnapshot) -> Vec<crate::articles::dto::FieldDiff> {
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(rev), serde_json::to_value(current))
        else {
            return Vec::new();
        };
        a.into_iter()
            .filter_map(|(field, revision)| {
                let current = b.get(&field).cloned().unwrap_or(serde_json::Value::Null);
                (revision != current).then_some(crate::articles::dto::FieldDiff { field, revision, current })
            })
            .collect()
    }
}

crate::list_envelope!(PageRevisionList, PageRevision, "A page of page revisions, newest first.");
crate::data_envelope!(PageRevisionEnvelope, PageRevisionDetail, "`{\"data\": PageRevisionDetail}`");
crate::list_envelope!(PageList, Page, "A page of pages.");
crate::data_envelope!(PageEnvelope, Page, "`{\"data\": Page}`");
