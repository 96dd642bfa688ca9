//! Wire types for authors. The private email is never part of them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::AuthorRow;

/// An author profile as served publicly (no email).
#[derive(Debug, Serialize, ToSchema)]
pub struct Author {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, e.g. `jane-doe`.
    pub slug: String,
    /// Name shown in bylines.
    pub name: String,
    /// Short biography, plain text.
    pub bio: Option<String>,
    /// Absolute URL of the author's photo.
    pub avatar_url: Option<String>,
    /// Personal or professional website.
    pub website: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl From<AuthorRow> for Author {
    fn from(r: AuthorRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            name: r.display_name,
            bio: r.bio,
            avatar_url: r.avatar_url,
            website: r.website,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

crate::list_envelope!(AuthorList, Author, "A page of authors.");
crate::data_envelope!(AuthorEnvelope, Author, "`{\"data\": Author}`");
