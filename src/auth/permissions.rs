//! The permission table: who may do what. Every write handler asks
//! [`Principal::require`]; nothing else decides permissions.
//!
//! | action | contributor | author | editor | admin | admin key scope |
//! |---|---|---|---|---|---|
//! | write own drafts | ✓ | ✓ | ✓ | ✓ | `articles:write` |
//! | publish own articles | | ✓ | ✓ | ✓ | `articles:write` |
//! | edit/publish any article | | | ✓ | ✓ | `articles:write` |
//! | byline only oneself | ✓ | | | | — |
//! | byline oneself, keep existing co-authors (any co-author with `AUTHORS_MAY_ADD_COAUTHORS`) | | ✓ | | | — |
//! | byline anyone | | | ✓ | ✓ | `articles:write` |
//! | manage series, put articles in them | | | ✓ | ✓ | `articles:write` |
//! | manage categories and tags (create, edit, delete, merge) | | | ✓ | ✓ | `articles:write` |
//! | use own or shared media on an article | ✓ | ✓ | ✓ | ✓ | `media:write` or `articles:write` |
//! | use anyone's media | | | ✓ | ✓ | `media:write` |
//! | upload media | | ✓ | ✓ | ✓ | `media:write` |
//! | manage all media | | | ✓ | ✓ | `media:write` |
//! | moderate comments | | | ✓ | ✓ | `comments:moderate` |
//! | edit own author profile | ✓ | ✓ | ✓ | ✓ | — |
//! | manage authors | | | ✓ | ✓ | `authors:write` |
//! | manage users | | | | ✓ | `users:write` |
//! | manage API keys, settings | | | | ✓ | — (users only) |
//! | see and retry background jobs | | | | ✓ | — (users only) |
//!
//! Content keys are read-only: they may read published content and nothing else.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// A user's role, from least to most privileged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Writes and edits their own drafts; cannot publish.
    Contributor,
    /// Publishes their own articles; uploads media.
    Author,
    /// Edits and publishes all articles, moderates comments, manages media and authors.
    Editor,
    /// Everything, plus users, API keys and settings.
    Admin,
}

impl Role {
    /// The stored form: `admin|editor|author|contributor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contributor => "contributor",
            Self::Author => "author",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contributor" => Some(Self::Contributor),
            "author" => Some(Self::Author),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Something a caller may try to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create or edit one's own drafts.
    WriteOwnDrafts,
    /// Publish or schedule one's own articles.
    PublishOwn,
    /// Edit or publish anyone's articles (and byline anyone on them).
    EditAnyArticle,
    /// Create, edit and delete series, and put articles in them or take them out.
    ManageSeries,
    /// Create, edit, delete and merge categories and tags.
    ManageTaxonomy,
    /// Create, edit and delete pages, and read unpublished ones.
    ManagePages,
    /// Upload media.
    UploadMedia,
    /// Edit or delete anyone's media.
    ManageMedia,
    /// Approve, reject or delete comments.
    ModerateComments,
    /// Edit the author profile linked to one's account.
    EditOwnAuthorProfile,
    /// Create, edit and delete any author.
    ManageAuthors,
    /// Create users, change roles, disable accounts.
    ManageUsers,
    /// Create and revoke API keys.
    ManageApiKeys,
    /// See and retry background jobs.
    ManageJobs,
    /// List, export and erase newsletter subscribers.
    ManageSubscribers,
    /// Manage webhook endpoints, their deliveries and secrets.
    ManageWebhooks,
}

impl Action {
    /// The lowest role allowed.
    pub fn min_role(self) -> Role {
        match self {
            Self::WriteOwnDrafts | Self::EditOwnAuthorProfile => Role::Contributor,
            Self::PublishOwn | Self::UploadMedia => Role::Author,
            Self::EditAnyArticle
            | Self::ManageSeries
            | Self::ManageTaxonomy
            | Self::ManagePages
            | Self::ManageMedia
            | Self::ModerateComments
            | Self::ManageAuthors
            | Self::ManageSubscribers => Role::Editor,
            Self::ManageUsers | Self::ManageApiKeys | Self::ManageJobs | Self::ManageWebhooks => Role::Admin,
        }
    }

    /// The admin-key scope that grants it; `None` when keys may never do it.
    pub fn scope(self) -> Option<&'static str> {
        match self {
            Self::WriteOwnDrafts
            | Self::PublishOwn
            | Self::EditAnyArticle
            | Self::ManageSeries
            | Self::ManageTaxonomy
            | Self::ManagePages => Some("articles:write"),
            Self::UploadMedia | Self::ManageMedia => Some("media:write"),
            Self::ModerateComments => Some("comments:moderate"),
            Self::ManageAuthors => Some("authors:write"),
            Self::ManageUsers => Some("users:write"),
            // Subscriber lists are personal data: people only, never keys.
            Self::EditOwnAuthorProfile
            | Self::ManageApiKeys
            | Self::ManageJobs
            | Self::ManageSubscribers
            | Self::ManageWebhooks => None,
        }
    }
}

/// Every scope an admin key may carry.
pub const SCOPES: &[&str] = &["articles:write", "authors:write", "comments:moderate", "media:write", "users:write"];

/// A signed-in user, as loaded from the database for this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// User id.
    pub id: i64,
    /// Current role (from the database, not the token).
    pub role: Role,
    /// Linked author profile, if any.
    pub author_id: Option<i64>,
    /// Session family of the access token.
    pub session_family: String,
}

/// An API key, as loaded from the database for this request.
#[derive(Clone, Debug)]
pub struct CurrentKey {
    /// Key id.
    pub id: i64,
    /// `content` (read-only) or `admin` (scoped).
    pub admin: bool,
    /// Scopes of an admin key.
    pub scopes: Vec<String>,
}

impl CurrentKey {
    /// A key as stored: `kind` is `content` or `admin`, `scopes` comma-separated.
    pub fn from_stored(id: i64, kind: &str, scopes: &str) -> Self {
        Self {
            id,
            admin: kind == "admin",
            scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        }
    }
}

/// Who is calling.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A user with an access token.
    User(CurrentUser),
    /// An integrator with an API key.
    Key(CurrentKey),
}

impl Principal {
    /// Whether this principal may perform `action`.
    pub fn can(&self, action: Action) -> bool {
        match self {
            Self::User(u) => u.role >= action.min_role(),
            Self::Key(k) => k.admin && action.scope().is_some_and(|s| k.scopes.iter().any(|have| have == s)),
        }
    }

    /// `Ok` if allowed, else 403 naming what was missing.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.can(action) {
            return Ok(());
        }
        Err(match self {
            Self::User(_) => {
                ApiError::Forbidden(format!("your role may not do this (needs {})", action.min_role().as_str()))
            }
            Self::Key(k) if !k.admin => ApiError::Forbidden("content API keys are read-only".into()),
            Self::Key(_) => ApiError::Forbidden(match action.scope() {
                Some(s) => format!("this API key lacks the `{s}` scope"),
                None => "API keys may not do this; sign in as a user".into(),
            }),
        })
    }

    /// The user, or 403 for API keys (for actions on one's own account).
    pub fn user(&self) -> Result<&CurrentUser, ApiError> {
        match self {
            Self::User(u) => Ok(u),
            Self::Key(_) => Err(ApiError::Forbidden("this needs a signed-in user, not an API key".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User(CurrentUser { id: 1, role, author_id: None, session_family: String::new() })
    }

    #[test]
    fn roles_are_ordered_and_gate_actions() {
        assert!(user(Role::Contributor).can(Action::WriteOwnDrafts));
        assert!(!user(Role::Contributor).can(Action::PublishOwn));
        assert!(user(Role::Author).can(Action::PublishOwn));
        assert!(!user(Role::Author).can(Action::ManageAuthors));
        assert!(user(Role::Editor).can(Action::ManageAuthors));
        assert!(!user(Role::Editor).can(Action::ManageUsers));
        assert!(user(Role::Admin).can(Action::ManageApiKeys));
    }

    #[test]
    fn keys_need_the_scope_and_content_keys_never_write() {
        let admin = Principal::Key(CurrentKey { id: 1, admin: true, scopes: vec!["authors:write".into()] });
        let content = Principal::Key(CurrentKey { id: 2, admin: false, scopes: vec!["authors:write".into()] });
        assert!(admin.can(Action::ManageAuthors));
        assert!(!admin.can(Action::ManageUsers));
        assert!(!admin.can(Action::ManageApiKeys));
        assert!(!content.can(Action::ManageAuthors));
    }
}
