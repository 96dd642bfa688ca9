//! Wire types for authors. The private email is never part of public responses.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::AuthorRow;
use crate::error::{ApiError, FieldError};
use crate::media::model::MediaRow;

/// An author profile as served publicly (no email).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "slug": "jane-doe", "name": "Jane Doe", "bio": "Covers city hall.", "avatar_media_id": null,
    "avatar_url": null, "website": "https://jane.example", "social_links": {"mastodon": "https://mastodon.example/@jane"},
    "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-02-01T12:30:00Z"}))]
pub struct Author {
    /// Numeric id.
    pub id: i64,
    /// URL-safe unique name, e.g. `jane-doe`; never all digits.
    pub slug: String,
    /// Name shown in bylines.
    pub name: String,
    /// Short biography, plain text.
    pub bio: Option<String>,
    /// The avatar's media id, if one is set.
    pub avatar_media_id: Option<i64>,
    /// Absolute URL of the author's photo (from `avatar_media_id`, else as imported).
    pub avatar_url: Option<String>,
    /// Personal or professional website.
    pub website: Option<String>,
    /// Social profiles by network name, e.g. `{"mastodon": "https://…"}`.
    pub social_links: BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl Author {
    /// Builds the public view; `avatars` maps media ids to rows loaded for the
    /// page; media URLs start with `base_url` (`PUBLIC_BASE_URL`).
    pub fn build(r: AuthorRow, avatars: &HashMap<i64, MediaRow>, base_url: &str) -> Self {
        let avatar_url = r
            .avatar_media_id
            .and_then(|id| avatars.get(&id))
            .and_then(|m| crate::media::dto::public_url(base_url, m))
            .or(r.avatar_url);
        Self {
            id: r.id,
            slug: r.slug,
            name: r.display_name,
            bio: r.bio,
            avatar_media_id: r.avatar_media_id,
            avatar_url,
            website: r.website,
            social_links: serde_json::from_str(&r.social_links).unwrap_or_default(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// `POST /authors` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Jane Doe", "bio": "Covers city hall.", "website": "https://jane.example", "social_links": {"mastodon": "https://mastodon.example/@jane"}}))]
pub struct CreateAuthor {
    /// Name shown in bylines, 1–200 characters, not blank, without control or
    /// bidirectional-override characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$"
    )]
    pub name: String,
    /// Optional slug; derived from `name` when omitted. Lowercase ASCII, digits and `-`.
    #[serde(default)]
    #[schema(pattern = "^(?!me$)(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Private contact email; never shown publicly.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Biography, plain text, at most 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub bio: Option<String>,
    /// Media id of the author's photo.
    #[serde(default)]
    pub avatar_media_id: Option<i64>,
    /// http(s) URL.
    #[serde(default)]
    #[schema(pattern = "^https?://[A-Za-z0-9.-]*[A-Za-z](:[0-9]{1,4})?([/?#][!-~]*)?$", max_length = 2000)]
    pub website: Option<String>,
    /// Network name → http(s) URL; at most 20.
    #[serde(default)]
    #[schema(schema_with = social_links_nullable)]
    pub social_links: Option<BTreeMap<String, String>>,
}

/// `PATCH /authors/{author}` and `PATCH /authors/me` body. Omitted fields are
/// unchanged; `null` clears a nullable field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bio": "Now covering the courts."}))]
pub struct UpdateAuthor {
    /// Name shown in bylines, 1–200 characters, not blank, without control or
    /// bidirectional-override characters.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$"
    )]
    pub name: Option<String>,
    /// New slug (editors only).
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(nullable = false, pattern = "^(?!me$)(?![0-9]+$)[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    /// Private contact email, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    /// Biography, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub bio: Option<Option<String>>,
    /// Media id of the photo, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub avatar_media_id: Option<Option<i64>>,
    /// http(s) URL, or `null`.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, pattern = "^https?://[A-Za-z0-9.-]*[A-Za-z](:[0-9]{1,4})?([/?#][!-~]*)?$", max_length = 2000)]
    pub website: Option<Option<String>>,
    /// Replaces all social links.
    #[serde(default, deserialize_with = "crate::patch::non_null")]
    #[schema(schema_with = social_links)]
    pub social_links: Option<BTreeMap<String, String>>,
}

/// `social_links` as `ProfileCheck::social_links` checks it: at most 20
/// entries, each a non-blank network name of at most 50 characters mapped to
/// an http(s) URL.
fn social_links_builder(description: &str) -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .description(Some(description))
        .max_properties(Some(20))
        .property_names(Some(
            ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(50)).pattern(Some(
                "^(?![\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$)[^\\u0000]*$",
            )),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(utoipa::openapi::RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(crate::validate::MAX_URL_BYTES))
                .pattern(Some(crate::validate::HTTP_URL_PATTERN))
                .into(),
        ))))
}

fn social_links_nullable() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    social_links_builder("Network name → http(s) URL; at most 20.")
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .build()
}

fn social_links() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::Type;
    social_links_builder("Replaces all social links.").schema_type(Type::Object).build()
}

/// Collects every invalid profile field into one 400.
pub struct ProfileCheck(Vec<FieldError>);

impl ProfileCheck {
    /// An empty check.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    fn fail(&mut self, field: &str, message: &str) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Checks a display name.
    pub fn name(&mut self, name: &str) {
        if name.trim().is_empty() || name.chars().count() > 200 {
            self.fail("name", "must be 1 to 200 characters");
        } else if name
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c))
        {
            self.fail("name", "must not contain control or bidirectional-override characters");
        }
    }

    /// Checks a requested slug.
    pub fn slug(&mut self, slug: &str) {
        if !crate::slugs::is_valid(slug) || slug == "me" {
            self.fail("slug", "must be lowercase letters, digits and single hyphens, not all digits, and not `me`");
        }
    }

    /// Checks an email.
    pub fn email(&mut self, email: &str) {
        if crate::users::handlers::validate_email(&email.trim().to_lowercase()).is_err() {
            self.fail("email", "is not a valid email address");
        }
    }

    /// Checks a bio.
    pub fn bio(&mut self, bio: &str) {
        if bio.chars().count() > 5000 {
            self.fail("bio", "must be at most 5000 characters");
        }
    }

    /// Checks a website.
    pub fn website(&mut self, url: &str) {
        if !crate::validate::is_http_url(url) {
            self.fail("website", "must be an absolute http(s) URL");
        }
    }

    /// Checks social links.
    pub fn social_links(&mut self, links: &BTreeMap<String, String>) {
        if links.len() > 20 {
            self.fail("social_links", "must have at most 20 entries");
        }
        for (network, url) in links {
            if network.trim().is_empty() || network.chars().count() > 50 || !crate::validate::is_http_url(url) {
                self.fail(&format!("social_links.{network}"), "must map a network name (≤ 50 chars) to an http(s) URL");
            }
        }
    }

    /// `Ok` when nothing failed, else a 400 listing every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        Err(ApiError::BadRequest { detail: format!("invalid fields: {}", fields.join(", ")), errors: self.0 })
    }
}

impl Default for ProfileCheck {
    fn default() -> Self {
        Self::new()
    }
}

crate::list_envelope!(AuthorList, Author, "A page of authors.");
crate::data_envelope!(AuthorEnvelope, Author, "`{\"data\": Author}`");
