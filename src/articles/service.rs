//! The editorial workflow: who may write what, status transitions, slugs,
//! revisions and optimistic concurrency. Handlers call these inside one
//! transaction; nothing here sees HTTP.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::dto::{ArticleStatus, BodyFormat, CommentStatus, CreateArticle, UpdateArticle};
use super::model::{status, ArticleRow};
use super::render;
use super::repo::{self, ArticleColumns, Visibility};
use crate::auth::permissions::{Action, Principal, Role};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::slugs;
use crate::taxonomy::{service as terms, Kind};

/// Site rules for the editorial workflow that come from settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// `AUTHORS_MAY_ADD_COAUTHORS`: authors may byline other authors beside
    /// themselves (off by default: only editors add co-authors).
    pub authors_may_add_coauthors: bool,
}

/// Largest accepted body source, in bytes.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The editable state of an article: what a revision snapshots and restores.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ArticleState {
    pub title: String,
    pub subtitle: Option<String>,
    pub slug: String,
    pub excerpt: Option<String>,
    pub body_format: String,
    pub body_source: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub bylines: Vec<i64>,
    pub categories: Vec<i64>,
    pub tags: Vec<i64>,
    pub series_id: Option<i64>,
    pub series_position: Option<i32>,
    pub featured_media_id: Option<i64>,
    pub featured_caption: Option<String>,
    pub featured_credit: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image_media_id: Option<i64>,
    pub comment_status: String,
    pub sticky: bool,
    /// Whether a post password is set; the hash itself is never snapshotted.
    /// Absent from revisions stored before passwords existed.
    #[serde(default)]
    pub password_protected: bool,
}

impl ArticleState {
    fn of(row: &ArticleRow, bylines: Vec<i64>, categories: Vec<i64>, tags: Vec<i64>) -> Self {
        Self {
            title: row.title.clone(),
            subtitle: row.subtitle.clone(),
            slug: row.slug.clone(),
            excerpt: row.excerpt.clone(),
            body_format: row.body_format.clone(),
            body_source: row.body_source.clone(),
            status: row.status.clone(),
            published_at: row.published_at,
            bylines,
            categories,
            tags,
            series_id: row.series_id,
            series_position: row.series_position,
            featured_media_id: row.featured_media_id,
            featured_caption: row.featured_caption.clone(),
            featured_credit: row.featured_credit.clone(),
            meta_title: row.meta_title.clone(),
            meta_description: row.meta_description.clone(),
            canonical_url: row.canonical_url.clone(),
            og_image_media_id: row.og_image_media_id,
            comment_status: row.comment_status.clone(),
            sticky: row.is_sticky,
            password_protected: row.password_protected,
        }
    }

    /// Names of the fields that differ from `other`.
    fn diff(&self, other: &Self) -> Vec<String> {
        let a = serde_json::to_value(self).unwrap_or_default();
        let b = serde_json::to_value(other).unwrap_or_default();
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return Vec::new() };
        a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect()
    }

    /// The row's columns, with `body` rendered ahead of time (outside the
    /// transaction) from this state's format and source.
    fn columns(&self, now: NaiveDateTime, body: &render::Rendered) -> ArticleColumns {
        let r = body.clone();
        ArticleColumns {
            slug: self.slug.clone(),
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            excerpt: self.excerpt.as_deref().map(render::sanitize),
            body_format: self.body_format.clone(),
            body_source: self.body_source.clone(),
            body_html: r.html,
            body_text: r.text,
            word_count: r.word_count,
            reading_time_minutes: r.reading_time_minutes,
            status: self.status.clone(),
            published_at: self.published_at,
            series_id: self.series_id,
            series_position: self.series_position,
            featured_media_id: self.featured_media_id,
            featured_caption: self.featured_caption.clone(),
            featured_credit: self.featured_credit.clone(),
            meta_title: self.meta_title.clone(),
            meta_description: self.meta_description.clone(),
            canonical_url: self.canonical_url.clone(),
            og_image_media_id: self.og_image_media_id,
            comment_status: self.comment_status.clone(),
            is_sticky: self.sticky,
            updated_at: now,
        }
    }
}

/// A client time, in UTC, cut to the microseconds both backends store.
fn micros(t: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    let t = t.naive_utc();
    chrono::Timelike::with_nanosecond(&t, t.and_utc().timestamp_subsec_micros() * 1000).unwrap_or(t)
}

/// A body rendered before the write transaction starts, so the (CPU-bound)
/// rendering never holds a database lock.
#[derive(Clone, Debug)]
pub struct Prerendered {
    /// `markdown` or `html`.
    pub format: String,
    /// The source that was rendered.
    pub source: String,
    /// The result, or why the body was refused (a message for `body`).
    pub rendered: Result<render::Rendered, String>,
}

impl Prerendered {
    /// Renders `source` in `format` on the blocking pool. A body over the
    /// limits is not an error here: validation reports it as a 400 on `body`.
    pub async fn prepare(format: String, source: String) -> Result<Self, ApiError> {
        let pre = actix_web::web::block(move || {
            let rendered = render::render(&format, &source);
            Self { format, source, rendered }
        })
        .await
        .map_err(|e| anyhow::anyhow!("rendering a body failed: {e}"))?;
        Ok(pre)
    }

    /// What `row` already stores, for a save that keeps its body.
    fn stored(row: &ArticleRow) -> Self {
        Self {
            format: row.body_format.clone(),
            source: row.body_source.clone(),
            rendered: Ok(render::Rendered {
                html: row.body_html.clone(),
                text: row.body_text.clone(),
                word_count: row.word_count,
                reading_time_minutes: row.reading_time_minutes,
            }),
        }
    }

    fn matches(&self, st: &ArticleState) -> bool {
        self.format == st.body_format && self.source == st.body_source
    }
}

/// The prerendered body for `st`: `pre` or, when the body is unchanged, what
/// `row` stores. Nothing is rendered here, since this runs inside the write
/// transaction; a body that changed after it was rendered is a 412.
fn body_for<'a>(
    st: &ArticleState,
    candidates: impl IntoIterator<Item = &'a Prerendered>,
) -> Result<&'a Prerendered, ApiError> {
    candidates.into_iter().find(|p| p.matches(st)).ok_or_else(|| {
        ApiError::PreconditionFailed("the article changed while its body was being rendered; try again".into())
    })
}

/// The rendered body of `pre`, which validation has already accepted.
fn rendered(pre: &Prerendered) -> Result<&render::Rendered, ApiError> {
    pre.rendered.as_ref().map_err(|m| ApiError::invalid("body", m.clone()))
}

/// A post-password change, hashed before the write transaction starts
/// (argon2id is deliberately slow, and must never hold a database lock).
#[derive(Clone, Debug, Default)]
pub enum PasswordChange {
    /// Leave the protection as it is.
    #[default]
    Keep,
    /// Protect the article with this argon2id PHC hash.
    Set(String),
    /// Remove the protection.
    Clear,
}

impl PasswordChange {
    /// Checks and hashes a `password` field: absent keeps, `null` clears, a
    /// string sets (400 naming `password` when malformed).
    pub async fn prepare(field: Option<Option<String>>) -> Result<Self, ApiError> {
        match field {
            None => Ok(Self::Keep),
            Some(None) => Ok(Self::Clear),
            Some(Some(p)) => {
                super::dto::check_post_password(&p)?;
                Ok(Self::Set(crate::auth::password::hash_async(p).await?))
            }
        }
    }

    fn apply(&self, c: &mut DbConnection, id: i64) -> Result<(), ApiError> {
        match self {
            Self::Keep => Ok(()),
            Self::Set(hash) => Ok(repo::set_password(c, id, Some(hash))?),
            Self::Clear => Ok(repo::set_password(c, id, None)?),
        }
    }
}

/// The argon2id hash of an imported plain-text post password
/// (`wp:post_password`, compared by WordPress exactly as stored, so not
/// trimmed); `None` when there is none. Runs inside the import, which is a
/// CLI batch, not a request. A hashing failure (not expected with fixed,
/// valid parameters) leaves the article protected with no password, which
/// only an editor can then set.
pub fn hash_imported_password(raw: Option<&String>) -> Option<String> {
    let raw = raw.filter(|p| !p.trim().is_empty())?;
    match crate::auth::password::hash(raw) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::error!(error = %e, "hashing an imported post password failed");
            None
        }
    }
}

/// What `principal` may see in lists and reads.
pub fn visibility(principal: Option<&Principal>) -> Visibility {
    match principal {
        None => Visibility::Public,
        Some(p) if p.can(Action::EditAnyArticle) => Visibility::All,
        Some(Principal::User(u)) => Visibility::PublicAndOwn(u.id),
        Some(Principal::Key(_)) => Visibility::Public,
    }
}

/// Whether `principal` may see `row` at `now`.
pub fn can_see(principal: Option<&Principal>, row: &ArticleRow, now: NaiveDateTime) -> bool {
    match visibility(principal) {
        Visibility::All => true,
        Visibility::Public => row.is_public(now),
        Visibility::PublicAndOwn(u) => row.is_public(now) || row.owner_id == Some(u),
    }
}

/// Whether the creator of a preview link may still edit `row`: their session
/// is live and their account enabled (or their key unrevoked), and their
/// current role lets them edit it.
pub fn creator_may_still_edit(
    c: &mut DbConnection,
    creator: &repo::PreviewCreator,
    row: &ArticleRow,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    use crate::auth::permissions::{CurrentKey, CurrentUser};
    let principal = match creator {
        repo::PreviewCreator::User { id, session_family } => {
            crate::auth::repo::active_user_in_session(c, *id, session_family, now)?.and_then(|(role, author_id)| {
                Role::parse(&role).map(|role| {
                    Principal::User(CurrentUser { id: *id, role, author_id, session_family: session_family.clone() })
                })
            })
        }
        repo::PreviewCreator::Key(id) => crate::auth::repo::live_api_key(c, *id, now)?
            .map(|(kind, scopes)| Principal::Key(CurrentKey::from_stored(*id, &kind, &scopes))),
    };
    Ok(principal.is_some_and(|p| can_edit(&p, row, now)))
}

/// Whether `principal` may edit `row` (status aside).
pub fn can_edit(principal: &Principal, row: &ArticleRow, now: NaiveDateTime) -> bool {
    if principal.can(Action::EditAnyArticle) {
        return true;
    }
    let Principal::User(u) = principal else { return false };
    let own = row.owner_id == Some(u.id);
    match u.role {
        Role::Author => own,
        Role::Contributor => own && row.effective_status(now) == status::DRAFT,
        _ => false,
    }
}

fn may_publish(principal: &Principal, own: bool) -> bool {
    principal.can(Action::EditAnyArticle) || (own && principal.can(Action::PublishOwn))
}

/// Checks an `If-Match` header against `row`: 428 when missing, 412 when stale.
pub fn check_if_match(if_match: Option<&str>, row: &ArticleRow) -> Result<(), ApiError> {
    let Some(header) = if_match else {
        return Err(ApiError::PreconditionRequired(
            "send the article's ETag in If-Match, so concurrent edits cannot overwrite each other".into(),
        ));
    };
    let current = row.etag();
    if header.split(',').map(str::trim).any(|t| t == current || t == "*") {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!("the article has changed since that ETag; it is now {current}")))
    }
}

struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }
    fn len(&mut self, field: &str, v: Option<&str>, min: usize, max: usize) {
        if let Some(v) = v {
            let n = v.chars().count();
            if n < min || n > max {
                self.fail(field, format!("must be {min} to {max} characters"));
            }
        }
    }
    fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        Err(ApiError::BadRequest { detail: format!("invalid fields: {}", fields.join(", ")), errors: self.0 })
    }
}

/// Validates a state's shapes (400) and references (422).
fn validate(c: &mut DbConnection, st: &ArticleState, body: &Prerendered) -> Result<(), ApiError> {
    let mut check = Check(Vec::new());
    check.len("title", Some(&st.title), 1, 300);
    check.len("subtitle", st.subtitle.as_deref(), 0, 500);
    check.len("excerpt", st.excerpt.as_deref(), 0, 2000);
    check.len("featured_caption", st.featured_caption.as_deref(), 0, 1000);
    check.len("featured_credit", st.featured_credit.as_deref(), 0, 300);
    check.len("meta_title", st.meta_title.as_deref(), 0, 300);
    check.len("meta_description", st.meta_description.as_deref(), 0, 500);
    if st.body_source.len() > MAX_BODY_BYTES {
        check.fail("body", format!("must be at most {MAX_BODY_BYTES} bytes"));
    } else if let Err(m) = &body.rendered {
        check.fail("body", m.clone());
    }
    for (field, n, max) in
        [("bylines", st.bylines.len(), 20), ("categories", st.categories.len(), 100), ("tags", st.tags.len(), 100)]
    {
        if n > max {
            check.fail(field, format!("must name at most {max}"));
        }
    }
    if !slugs::is_valid(&st.slug) {
        check.fail("slug", "must be lowercase letters, digits and single hyphens, and not all digits");
    }
    if st.canonical_url.as_deref().is_some_and(|u| !crate::validate::is_http_url(u)) {
        check.fail("canonical_url", "must be an absolute http(s) URL");
    }
    if st.bylines.is_empty() {
        check.fail("bylines", "must name at least one author");
    }
    if st.series_position.is_some_and(|p| !(1..=10_000).contains(&p)) {
        check.fail("series_position", "must be from 1 to 10000");
    }
    check.finish()?;
    for (field, kind, ids) in [
        ("bylines", "authors", st.bylines.clone()),
        ("categories", "categories", st.categories.clone()),
        ("tags", "tags", st.tags.clone()),
        ("series_id", "series", st.series_id.into_iter().collect()),
        ("featured_media_id", "media", st.featured_media_id.into_iter().collect()),
        ("og_image_media_id", "media", st.og_image_media_id.into_iter().collect()),
    ] {
        if !repo::all_exist(c, kind, &ids)? {
            return Err(ApiError::unprocessable(field, format!("names {kind} that do not exist")));
        }
    }
    Ok(())
}

/// Bylines `principal` may add (ids in `st.bylines` that `before` lacks):
/// editors and `articles:write` keys anyone; authors themselves, plus anyone
/// when the policy allows co-authors and they byline themselves too;
/// contributors only themselves. Existing bylines may always stay.
fn check_bylines(
    principal: &Principal,
    policy: Policy,
    before: Option<&ArticleState>,
    st: &ArticleState,
) -> Result<(), ApiError> {
    if principal.can(Action::EditAnyArticle) {
        return Ok(());
    }
    let Principal::User(u) = principal else {
        return Err(ApiError::Forbidden("bylines: this API key may not byline authors".into()));
    };
    let kept = before.map(|b| b.bylines.as_slice()).unwrap_or_default();
    let added: Vec<i64> = st.bylines.iter().copied().filter(|id| !kept.contains(id)).collect();
    let own = u.author_id;
    // Taking oneself off a byline would leave an article published under
    // co-authors' names alone: only editors do that.
    if let Some(o) = own.filter(|o| kept.contains(o) && !st.bylines.contains(o)) {
        return Err(ApiError::Forbidden(format!(
            "bylines: you may not take yourself (author {o}) off the byline; an editor can"
        )));
    }
    let others: Vec<i64> = added.iter().copied().filter(|id| Some(*id) != own).collect();
    if others.is_empty() {
        return Ok(());
    }
    let coauthors_allowed =
        u.role == Role::Author && policy.authors_may_add_coauthors && own.is_some_and(|o| st.bylines.contains(&o));
    if coauthors_allowed {
        return Ok(());
    }
    let list = others.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    Err(ApiError::Forbidden(match own {
        Some(o) => format!(
            "bylines: you may byline only yourself (author {o}); an editor adds co-authors (author {list} is not yours)"
        ),
        None => format!(
            "bylines: your account has no author profile, and author {list} is not yours; \
             ask an admin to link one (PATCH /api/v1/users/{{id}} with author_id)"
        ),
    }))
}

/// Putting an article in a series, moving it within one or taking it out
/// changes the series: it needs the right to edit series.
fn check_series(principal: &Principal, before: Option<&ArticleState>, st: &ArticleState) -> Result<(), ApiError> {
    let (was, was_at) = before.map(|b| (b.series_id, b.series_position)).unwrap_or((None, None));
    if (st.series_id, st.series_position) == (was, was_at) || principal.can(Action::ManageSeries) {
        return Ok(());
    }
    Err(ApiError::Forbidden("series_id: only editors put articles in series or move them; leave it as it is".into()))
}

/// A featured or Open Graph image newly set must be one the caller may edit,
/// or one marked `shared` (see `media::service::may_use`).
fn check_media(
    c: &mut DbConnection,
    principal: &Principal,
    before: Option<&ArticleState>,
    st: &ArticleState,
) -> Result<(), ApiError> {
    let was = |f: fn(&ArticleState) -> Option<i64>| before.and_then(f);
    for (field, now, then) in [
        ("featured_media_id", st.featured_media_id, was(|b| b.featured_media_id)),
        ("og_image_media_id", st.og_image_media_id, was(|b| b.og_image_media_id)),
    ] {
        let Some(id) = now.filter(|id| Some(*id) != then) else { continue };
        let row = crate::media::repo::find(c, id)
            .map_err(|e| ApiError::from(e).with_not_found(format!("{field} names media that does not exist")))?;
        if !crate::media::service::may_use(principal, &row) {
            return Err(ApiError::Forbidden(format!(
                "{field}: media {id} belongs to someone else and is not shared; its owner or an editor can share it"
            )));
        }
    }
    Ok(())
}

/// Every ownership rule for a move from `before` to `st` (see the permission
/// table in `auth::permissions`).
fn check_ownership(
    c: &mut DbConnection,
    principal: &Principal,
    policy: Policy,
    before: Option<&ArticleState>,
    st: &ArticleState,
) -> Result<(), ApiError> {
    check_bylines(principal, policy, before, st)?;
    check_series(principal, before, st)?;
    check_media(c, principal, before, st)
}

/// Applies status and `published_at` rules for a move from `from` to `st.status`.
fn settle_status(
    principal: &Principal,
    own: bool,
    from: Option<&str>,
    st: &mut ArticleState,
    requested_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = st.status.clone();
    if from != Some(to.as_str()) && to != status::DRAFT && !may_publish(principal, own) {
        return Err(ApiError::Forbidden("your role may not publish, schedule or archive; save it as a draft".into()));
    }
    if let Some(from) = from {
        let allowed = from == to
            || to == status::DRAFT
            || matches!(
                (from, to.as_str()),
                ("draft", "scheduled")
                    | ("draft", "published")
                    | ("scheduled", "published")
                    | ("published", "archived")
            );
        if !allowed {
            return Err(ApiError::Unprocessable(format!(
                "cannot move from {from} to {to}: the workflow is draft → scheduled → published → archived, and back to draft"
            )));
        }
    }
    if requested_at.is_some_and(|t| !(1900..=9999).contains(&chrono::Datelike::year(&t))) {
        return Err(ApiError::invalid("published_at", "must be between the years 1900 and 9999"));
    }
    if requested_at.is_some() && !may_publish(principal, own) {
        return Err(ApiError::Forbidden("your role may not set published_at".into()));
    }
    let was_published = matches!(from, Some("published" | "archived"));
    if requested_at.is_some() && was_published && !principal.can(Action::EditAnyArticle) {
        return Err(ApiError::Forbidden("only editors may change the publication time of a published article".into()));
    }
    match to.as_str() {
        "scheduled" => {
            let at = requested_at.or(st.published_at);
            match at {
                Some(t) if t > now => st.published_at = Some(t),
                _ => return Err(ApiError::invalid("published_at", "must be in the future to schedule")),
            }
        }
        "published" => {
            st.published_at = match (requested_at, st.published_at, from) {
                (Some(t), _, _) if t > now => {
                    return Err(ApiError::invalid("published_at", "is in the future: use status `scheduled`"))
                }
                (Some(t), _, _) => Some(t),
                // First publication stamps the time; later edits keep it.
                (None, Some(t), Some("published" | "archived")) => Some(t),
                (None, Some(t), _) if t <= now => Some(t),
                _ => Some(now),
            };
        }
        "archived" => {}
        _ => {
            if requested_at.is_some() {
                st.published_at = requested_at;
            }
        }
    }
    Ok(())
}

fn snapshot_and_revision(
    c: &mut DbConnection,
    id: i64,
    principal: &Principal,
    changed: &[String],
    st: &ArticleState,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let user = match principal {
        Principal::User(u) => Some(u.id),
        Principal::Key(_) => None,
    };
    let snapshot = serde_json::to_string(st).map_err(anyhow::Error::from)?;
    repo::insert_revision(c, id, user, changed, &snapshot, now)?;
    Ok(())
}

/// The editable state of article `id` as stored (what a revision snapshots).
pub fn stored_state(c: &mut DbConnection, id: i64) -> diesel::QueryResult<ArticleState> {
    let row = repo::find(c, id)?;
    let (bylines, categories, tags) = repo::relation_ids(c, id)?;
    Ok(ArticleState::of(&row, bylines, categories, tags))
}

/// Records a revision by no user (an import) of article `id` as stored now,
/// naming the fields that differ from `before`. Nothing when none differ.
pub fn record_import_revision(c: &mut DbConnection, id: i64, before: &ArticleState) -> diesel::QueryResult<()> {
    let after = stored_state(c, id)?;
    let changed = after.diff(before);
    if changed.is_empty() {
        return Ok(());
    }
    let snapshot = serde_json::to_string(&after).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    repo::insert_revision(c, id, None, &changed, &snapshot, crate::db::now())
}

/// Creates an article; returns its row.
pub fn create(
    c: &mut DbConnection,
    principal: &Principal,
    policy: Policy,
    b: CreateArticle,
    pre: &Prerendered,
    password: &PasswordChange,
) -> Result<ArticleRow, ApiError> {
    principal.require(Action::WriteOwnDrafts)?;
    slugs::lock_for(c, "articles")?;
    let now = crate::db::now();
    let owner = match principal {
        Principal::User(u) => Some(u.id),
        Principal::Key(_) => None,
    };
    let bylines = match (b.bylines, principal) {
        (Some(v), _) => v,
        (None, Principal::User(u)) => match u.author_id {
            Some(a) => vec![a],
            None => {
                return Err(ApiError::unprocessable(
                    "bylines",
                    format!(
                        "are needed: your account (user {}) has no author profile to credit. Name `bylines`, \
                         or have an admin link a profile with `PATCH /api/v1/users/{}` and `{{\"author_id\": …}}` \
                         (create one with `POST /api/v1/authors`)",
                        u.id, u.id
                    ),
                ))
            }
        },
        // A key acts for no one, so there is no profile to credit: the same
        // 422 as an account without one, rather than the 400 of `bylines: []`.
        (None, Principal::Key(_)) => {
            return Err(ApiError::unprocessable(
                "bylines",
                "are needed: an API key has no author profile to credit. Name `bylines` (author ids)",
            ))
        }
    };
    let slug = match &b.slug {
        Some(s) => s.clone(),
        None => {
            let base = Some(slugs::slugify(&b.title)).filter(|s| !s.is_empty()).unwrap_or_else(|| "article".into());
            slugs::unique(&base, |s| repo::slug_in_use(c, s, None))?
        }
    };
    let mut st = ArticleState {
        title: b.title.trim().to_owned(),
        subtitle: b.subtitle,
        slug,
        excerpt: b.excerpt,
        body_format: b.body_format.unwrap_or(BodyFormat::Markdown).as_str().to_owned(),
        body_source: b.body.unwrap_or_default(),
        status: b.status.unwrap_or(ArticleStatus::Draft).as_str().to_owned(),
        published_at: None,
        bylines,
        categories: terms::resolve(c, Kind::Category, "categories", &b.categories)?,
        tags: terms::resolve(c, Kind::Tag, "tags", &b.tags)?,
        series_id: b.series_id,
        series_position: b.series_position,
        featured_media_id: b.featured_media_id,
        featured_caption: b.featured_caption,
        featured_credit: b.featured_credit,
        meta_title: b.meta_title,
        meta_description: b.meta_description,
        canonical_url: b.canonical_url,
        og_image_media_id: b.og_image_media_id,
        comment_status: if b.comment_status == Some(CommentStatus::Closed) { "closed" } else { "open" }.to_owned(),
        sticky: b.sticky.unwrap_or(false),
        password_protected: matches!(password, PasswordChange::Set(_)),
    };
    if st.status == status::ARCHIVED {
        return Err(ApiError::Unprocessable("a new article cannot start archived".into()));
    }
    let body = body_for(&st, [pre])?;
    validate(c, &st, body)?;
    check_ownership(c, principal, policy, None, &st)?;
    settle_status(principal, true, None, &mut st, b.published_at.map(micros), now)?;
    if b.slug.is_some() && repo::slug_in_use(c, &st.slug, None)? {
        return Err(ApiError::Conflict(format!("slug `{}` is taken", st.slug)));
    }
    let id = repo::insert_article(c, &st.columns(now, rendered(body)?), owner)?;
    password.apply(c, id)?;
    repo::replace_relations(c, id, &st.bylines, &st.categories, &st.tags)?;
    announce(c, id, &st, now)?;
    let changed: Vec<String> = vec!["created".into()];
    snapshot_and_revision(c, id, principal, &changed, &st, now)?;
    let created = repo::find(c, id)?;
    crate::webhooks::article_changed(c, None, Some(&created))?;
    Ok(created)
}

/// Loads `row`'s editable state.
pub fn state_of(c: &mut DbConnection, row: &ArticleRow) -> Result<ArticleState, ApiError> {
    let (bylines, categories, tags) = repo::relation_ids(c, row.id)?;
    Ok(ArticleState::of(row, bylines, categories, tags))
}

/// Applies a PATCH to `row` (already checked for visibility and `If-Match`).
pub fn update(
    c: &mut DbConnection,
    principal: &Principal,
    policy: Policy,
    row: ArticleRow,
    b: UpdateArticle,
    pre: Option<&Prerendered>,
    password: &PasswordChange,
) -> Result<ArticleRow, ApiError> {
    let now = crate::db::now();
    if !can_edit(principal, &row, now) {
        return Err(ApiError::Forbidden("you may not edit this article".into()));
    }
    // Re-read inside the transaction: it may have been deleted or saved since.
    match repo::find(c, row.id) {
        Err(diesel::result::Error::NotFound) => return Err(ApiError::NotFound("the article was deleted".into())),
        Err(e) => return Err(e.into()),
        Ok(current) if current.version != row.version => {
            return Err(ApiError::PreconditionFailed("the article changed while this edit was being made".into()))
        }
        Ok(_) => {}
    }
    let before = state_of(c, &row)?;
    let mut st = before.clone();
    if let Some(v) = b.title {
        st.title = v.trim().to_owned();
    }
    if let Some(v) = b.subtitle {
        st.subtitle = v;
    }
    if let Some(v) = b.slug {
        st.slug = v;
    }
    if let Some(v) = b.excerpt {
        st.excerpt = v;
    }
    if let Some(v) = b.body {
        st.body_source = v;
    }
    if let Some(v) = b.body_format {
        st.body_format = v.as_str().to_owned();
    }
    if let Some(v) = b.bylines {
        st.bylines = v;
    }
    if let Some(keys) = b.categories {
        let mut v = terms::resolve(c, Kind::Category, "categories", &keys)?;
        v.sort_unstable();
        v.dedup();
        st.categories = v;
    }
    if let Some(keys) = b.tags {
        let mut v = terms::resolve(c, Kind::Tag, "tags", &keys)?;
        v.sort_unstable();
        v.dedup();
        st.tags = v;
    }
    if let Some(v) = b.series_id {
        st.series_id = v;
    }
    if let Some(v) = b.series_position {
        st.series_position = v;
    }
    if let Some(v) = b.featured_media_id {
        st.featured_media_id = v;
    }
    if let Some(v) = b.featured_caption {
        st.featured_caption = v;
    }
    if let Some(v) = b.featured_credit {
        st.featured_credit = v;
    }
    if let Some(v) = b.meta_title {
        st.meta_title = v;
    }
    if let Some(v) = b.meta_description {
        st.meta_description = v;
    }
    if let Some(v) = b.canonical_url {
        st.canonical_url = v;
    }
    if let Some(v) = b.og_image_media_id {
        st.og_image_media_id = v;
    }
    if let Some(v) = b.comment_status {
        st.comment_status = if v == CommentStatus::Open { "open" } else { "closed" }.to_owned();
    }
    if let Some(v) = b.sticky {
        st.sticky = v;
    }
    if let Some(v) = b.status {
        st.status = v.as_str().to_owned();
    }
    match password {
        PasswordChange::Keep => {}
        PasswordChange::Set(_) => st.password_protected = true,
        PasswordChange::Clear => st.password_protected = false,
    }
    let note = b.update_note.map(|n| n.trim().to_owned());
    if note.as_deref().is_some_and(|n| n.is_empty() || n.chars().count() > 1000) {
        return Err(ApiError::invalid("update_note", "must be 1 to 1000 characters"));
    }
    let own = matches!(principal, Principal::User(u) if row.owner_id == Some(u.id));
    let from = row.effective_status(now).to_owned();
    // A scheduled article whose time has passed is published: reason from that.
    if st.status == status::SCHEDULED && from == status::PUBLISHED && b.status.is_none() {
        st.status = status::PUBLISHED.to_owned();
    }
    let stored = Prerendered::stored(&row);
    let body = body_for(&st, pre.into_iter().chain([&stored]))?;
    validate(c, &st, body)?;
    check_ownership(c, principal, policy, Some(&before), &st)?;
    settle_status(principal, own, Some(&from), &mut st, b.published_at.map(micros), now)?;
    save(c, principal, row, before, st, note, password, now, rendered(body)?)
}

#[allow(clippy::too_many_arguments)]
fn save(
    c: &mut DbConnection,
    principal: &Principal,
    row: ArticleRow,
    before: ArticleState,
    st: ArticleState,
    note: Option<String>,
    password: &PasswordChange,
    now: NaiveDateTime,
    body: &render::Rendered,
) -> Result<ArticleRow, ApiError> {
    let mut changed = st.diff(&before);
    if note.is_some() {
        changed.push("update_notes".into());
    }
    // A new password on an article already protected changes no snapshot
    // field, but it is a change (and bumps the version).
    if matches!(password, PasswordChange::Set(_)) && !changed.iter().any(|f| f == "password_protected") {
        changed.push("password".into());
    }
    if changed.is_empty() {
        return Ok(row);
    }
    if st.slug != before.slug {
        slugs::lock_for(c, "articles")?;
        if repo::slug_in_use(c, &st.slug, Some(row.id))? {
            return Err(ApiError::Conflict(format!("slug `{}` is taken", st.slug)));
        }
        repo::record_slug_change(c, row.id, &before.slug, &st.slug)?;
    }
    if !repo::update_article(c, row.id, row.version, &st.columns(now, body))? {
        return Err(ApiError::PreconditionFailed("the article changed while this edit was being saved".into()));
    }
    password.apply(c, row.id)?;
    if st.bylines != before.bylines || st.categories != before.categories || st.tags != before.tags {
        repo::replace_relations(c, row.id, &st.bylines, &st.categories, &st.tags)?;
    }
    if let Some(n) = note {
        repo::add_update_note(c, row.id, &n, now)?;
    }
    announce(c, row.id, &st, now)?;
    snapshot_and_revision(c, row.id, principal, &changed, &st, now)?;
    let saved = repo::find(c, row.id)?;
    crate::webhooks::article_changed(c, Some(&row), Some(&saved))?;
    Ok(saved)
}

/// Queues the article's one newsletter mailing when a save leaves it
/// published or scheduled (`mailings::on_article_published` decides: once
/// per article, never backdated, per-article mode).
fn announce(c: &mut DbConnection, id: i64, st: &ArticleState, now: NaiveDateTime) -> Result<(), ApiError> {
    if let (status::PUBLISHED | status::SCHEDULED, Some(at)) = (st.status.as_str(), st.published_at) {
        crate::mailings::on_article_published(c, id, at, now)?;
    }
    Ok(())
}

/// The body format and source of revision `rev` of `article`, to render
/// before [`restore`] opens its transaction. 404 when there is no such revision.
pub fn revision_body(c: &mut DbConnection, article: i64, rev: i64) -> Result<(String, String), ApiError> {
    let st = revision_state(c, article, rev)?;
    Ok((st.body_format, st.body_source))
}

/// Revision `rev` of `row` in full, with its field-by-field diff against
/// the current version. 404 when `row` has no such revision.
pub fn revision_detail(
    c: &mut DbConnection,
    row: &ArticleRow,
    rev: i64,
) -> Result<super::dto::RevisionDetail, ApiError> {
    use super::dto::{RevisionDetail, RevisionSnapshot};
    let (user_id, changed, created_at) = repo::revision_meta(c, row.id, rev)?
        .ok_or_else(|| ApiError::NotFound(format!("article {} has no revision {rev}", row.id)))?;
    let snapshot = RevisionSnapshot::from(&revision_state(c, row.id, rev)?);
    let current = RevisionSnapshot::from(&state_of(c, row)?);
    Ok(RevisionDetail {
        id: rev,
        user_id,
        changed_fields: changed.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        created_at: created_at.and_utc(),
        diff: RevisionDetail::diff(&snapshot, &current),
        snapshot,
        current_version: row.version,
    })
}

fn revision_state(c: &mut DbConnection, article: i64, rev: i64) -> Result<ArticleState, ApiError> {
    let snapshot = repo::revision_snapshot(c, article, rev)
        .map_err(|e| ApiError::from(e).with_not_found(format!("article {article} has no revision {rev}")))?;
    Ok(serde_json::from_str(&snapshot).map_err(anyhow::Error::from)?)
}

/// Restores the content of revision `rev` onto `row`, keeping its current
/// status and publication time (restoring never publishes or unpublishes).
/// `pre` is the revision's body rendered by the caller before the transaction
/// (see [`revision_body`]).
pub fn restore(
    c: &mut DbConnection,
    principal: &Principal,
    policy: Policy,
    row: ArticleRow,
    rev: i64,
    pre: &Prerendered,
) -> Result<ArticleRow, ApiError> {
    let now = crate::db::now();
    if !can_edit(principal, &row, now) {
        return Err(ApiError::Forbidden("you may not edit this article".into()));
    }
    let mut st = revision_state(c, row.id, rev)?;
    let before = state_of(c, &row)?;
    st.status = before.status.clone();
    st.published_at = before.published_at;
    // The protection is not content: a restore keeps the current password.
    st.password_protected = before.password_protected;
    // Referenced rows may have gone since; keep only those that still exist.
    for (kind, ids) in [("authors", &mut st.bylines), ("categories", &mut st.categories), ("tags", &mut st.tags)] {
        let kept: Vec<i64> =
            ids.iter().copied().filter(|id| repo::all_exist(c, kind, &[*id]).unwrap_or(false)).collect();
        *ids = kept;
    }
    if st.slug != before.slug && repo::slug_in_use(c, &st.slug, Some(row.id))? {
        st.slug = before.slug.clone();
    }
    // What the caller may not set now stays as it is: a restore brings back
    // the content, never someone else's byline, series or photo.
    if check_bylines(principal, policy, Some(&before), &st).is_err() {
        st.bylines = before.bylines.clone();
    }
    if check_series(principal, Some(&before), &st).is_err() {
        (st.series_id, st.series_position) = (before.series_id, before.series_position);
    }
    match check_media(c, principal, Some(&before), &st) {
        Err(ApiError::Forbidden(_)) => {
            (st.featured_media_id, st.og_image_media_id) = (before.featured_media_id, before.og_image_media_id);
        }
        // A vanished image is reported by `validate` (422); an outage is not
        // a refusal to hide.
        Err(ApiError::NotFound(_)) | Ok(()) => {}
        Err(e) => return Err(e),
    }
    let stored = Prerendered::stored(&row);
    let body = body_for(&st, [pre, &stored])?;
    validate(c, &st, body)?;
    save(c, principal, row, before, st, None, &PasswordChange::Keep, now, rendered(body)?)
}

/// Deletes `row` (already checked for visibility and `If-Match`).
pub fn delete(c: &mut DbConnection, principal: &Principal, row: &ArticleRow) -> Result<(), ApiError> {
    if !can_edit(principal, row, crate::db::now()) {
        return Err(ApiError::Forbidden("you may not delete this article".into()));
    }
    if !repo::delete_article(c, row.id, row.version)? {
        return Err(ApiError::PreconditionFailed("the article changed while it was being deleted".into()));
    }
    crate::webhooks::article_changed(c, Some(row), None)?;
    Ok(())
}
