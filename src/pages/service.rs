//! The write rules for pages: validation, slugs, the parent tree, revisions
//! and optimistic concurrency (`ETag` / `If-Match`, as for articles).

use chrono::NaiveDateTime;
use diesel::Connection;
use serde::{Deserialize, Serialize};

use super::dto::{CreatePage, UpdatePage};
use super::model::{status, PageForm, PageRow};
use super::repo;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::slugs::{self, IdOrSlug};

/// Largest page body, in bytes (as for articles).
pub const MAX_BODY_BYTES: usize = crate::articles::service::MAX_BODY_BYTES;

fn check_title(title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() || title.chars().count() > 200 || title.contains('\0') {
        return Err(ApiError::invalid("title", "must be 1 to 200 characters, without NUL"));
    }
    Ok(())
}

fn check_slug(slug: &str) -> Result<(), ApiError> {
    if !slugs::is_valid(slug) || slug.len() > 200 {
        return Err(ApiError::invalid("slug", "must be lowercase letters, digits and single hyphens, not all digits"));
    }
    Ok(())
}

fn check_menu_order(order: i32) -> Result<(), ApiError> {
    if !(0..=1_000_000).contains(&order) {
        return Err(ApiError::invalid("menu_order", "must be 0 to 1000000"));
    }
    Ok(())
}

/// Sanitizes `body` (HTML) within the renderer's limits; a 400 naming `body`.
pub fn render_body(body: &str) -> Result<String, ApiError> {
    if body.len() > MAX_BODY_BYTES || body.contains('\0') {
        return Err(ApiError::invalid("body", format!("must be at most {MAX_BODY_BYTES} bytes, without NUL")));
    }
    crate::articles::render::render("html", body).map(|r| r.html).map_err(|m| ApiError::invalid("body", m))
}

/// Checks that `parent` exists and that making it the parent of `id` makes no loop.
fn check_parent(c: &mut DbConnection, id: Option<i64>, parent: Option<i64>) -> Result<(), ApiError> {
    let Some(p) = parent else { return Ok(()) };
    if !repo::exists(c, p)? {
        return Err(ApiError::unprocessable("parent_id", format!("names no page: {p}")));
    }
    let mut cursor = Some(p);
    let mut steps = 0;
    while let Some(at) = cursor {
        if Some(at) == id {
            return Err(ApiError::unprocessable("parent_id", "would make the page its own ancestor"));
        }
        steps += 1;
        if steps > 10_000 {
            break;
        }
        cursor = repo::parent_of(c, at)?;
    }
    Ok(())
}

/// The editable state of a page: what a revision snapshots and restores.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PageState {
    pub title: String,
    pub slug: String,
    pub body_source: String,
    pub status: String,
    pub parent_id: Option<i64>,
    pub menu_order: i32,
}

impl PageState {
    /// The state of `row`.
    pub fn of(row: &PageRow) -> Self {
        Self {
            title: row.title.clone(),
            slug: row.slug.clone(),
            body_source: row.body_source.clone(),
            status: row.status.clone(),
            parent_id: row.parent_id,
            menu_order: row.menu_order,
        }
    }

    /// Names of the fields that differ from `other`, by name.
    fn diff(&self, other: &Self) -> Vec<String> {
        let a = serde_json::to_value(self).unwrap_or_default();
        let b = serde_json::to_value(other).unwrap_or_default();
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return Vec::new() };
        a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect()
    }
}

/// Checks an `If-Match` header against `row`: 428 when missing, 412 when stale.
pub fn check_if_match(if_match: Option<&str>, row: &PageRow) -> Result<(), ApiError> {
    let Some(header) = if_match else {
        return Err(ApiError::PreconditionRequired(
            "send the page's ETag in If-Match, so concurrent edits cannot overwrite each other".into(),
        ));
    };
    let current = row.etag();
    if header.split(',').map(str::trim).any(|t| t == current || t == "*") {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!("the page has changed since that ETag; it is now {current}")))
    }
}

fn record_revision(
    c: &mut DbConnection,
    row: &PageRow,
    user: Option<i64>,
    changed: &[String],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let snapshot = serde_json::to_string(&PageState::of(row)).map_err(anyhow::Error::from)?;
    repo::insert_revision(c, row.id, user, changed, &snapshot, now)?;
    Ok(())
}

/// Saves `form` over `row` (checked against `If-Match` already) when it
/// changes anything, recording a revision; the unchanged row otherwise.
fn save(
    c: &mut DbConnection,
    row: PageRow,
    mut form: PageForm,
    user: Option<i64>,
    now: NaiveDateTime,
) -> Result<PageRow, ApiError> {
    let before = PageState::of(&row);
    let after = PageState {
        title: form.title.clone(),
        slug: form.slug.clone(),
        body_source: form.body_source.clone(),
        status: form.status.clone(),
        parent_id: form.parent_id,
        menu_order: form.menu_order,
    };
    let changed = after.diff(&before);
    if changed.is_empty() {
        return Ok(row);
    }
    form.updated_at = now;
    let saved = repo::update_at(c, row.id, row.version, &form)?
        .ok_or_else(|| ApiError::PreconditionFailed("the page changed while this edit was being saved".into()))?;
    record_revision(c, &saved, user, &changed, now)?;
    Ok(saved)
}

/// Creates a page (the caller checked permission) and its first revision;
/// `body_html` is the sanitized body from [`render_body`], done before the
/// transaction. `user` is the author of the revision (`None` for a key).
pub fn create(c: &mut DbConnection, b: &CreatePage, body_html: String, user: Option<i64>) -> Result<PageRow, ApiError> {
    check_title(&b.title)?;
    if let Some(s) = &b.slug {
        check_slug(s)?;
    }
    let menu_order = b.menu_order.unwrap_or(0);
    check_menu_order(menu_order)?;
    c.transaction(|c| {
        check_parent(c, None, b.parent_id)?;
        slugs::lock_for(c, "pages")?;
        let slug = match &b.slug {
            Some(s) if repo::slug_taken(c, s, None)? => return Err(ApiError::Conflict(format!("slug `{s}` is taken"))),
            Some(s) => s.clone(),
            None => {
                let base = Some(slugs::slugify(&b.title)).filter(|s| !s.is_empty()).unwrap_or_else(|| "page".into());
                slugs::unique(&base, |s| repo::slug_taken(c, s, None))?
            }
        };
        let now = crate::db::now();
        let st = b.status.map_or(status::DRAFT, |s| s.as_str());
        let form = PageForm {
            slug,
            title: b.title.trim().to_owned(),
            body_source: b.body.clone(),
            body_html,
            status: st.to_owned(),
            parent_id: b.parent_id,
            menu_order,
            published_at: (st == status::PUBLISHED).then_some(now),
            updated_at: now,
        };
        let row = repo::insert(c, &form, now)?;
        record_revision(c, &row, user, &["created".to_owned()], now)?;
        Ok(row)
    })
}

/// Applies `b` to the page named by `key` if `if_match` names its current
/// version (428/412 otherwise); `body_html` is the sanitized new body when
/// `b.body` is given. A change records a revision by `user`.
pub fn update(
    c: &mut DbConnection,
    key: &IdOrSlug,
    b: &UpdatePage,
    body_html: Option<String>,
    if_match: Option<&str>,
    user: Option<i64>,
) -> Result<PageRow, ApiError> {
    if let Some(t) = &b.title {
        check_title(t)?;
    }
    if let Some(s) = &b.slug {
        check_slug(s)?;
    }
    if let Some(o) = b.menu_order {
        check_menu_order(o)?;
    }
    c.transaction(|c| {
        let row = repo::find_by_key(c, key, true)?.ok_or_else(|| ApiError::NotFound("no such page".into()))?;
        check_if_match(if_match, &row)?;
        let mut form = PageForm::of(&row);
        if let Some(parent) = b.parent_id {
            check_parent(c, Some(row.id), parent)?;
            form.parent_id = parent;
        }
        if let Some(s) = &b.slug {
            slugs::lock_for(c, "pages")?;
            if repo::slug_taken(c, s, Some(row.id))? {
                return Err(ApiError::Conflict(format!("slug `{s}` is taken")));
            }
            form.slug = s.clone();
        }
        if let Some(t) = &b.title {
            form.title = t.trim().to_owned();
        }
        if let (Some(src), Some(html)) = (&b.body, body_html) {
            form.body_source = src.clone();
            form.body_html = html;
        }
        if let Some(o) = b.menu_order {
            form.menu_order = o;
        }
        let now = crate::db::now();
        if let Some(s) = b.status {
            form.status = s.as_str().to_owned();
            if s.as_str() == status::PUBLISHED && form.published_at.is_none() {
                form.published_at = Some(now);
            }
        }
        save(c, row, form, user, now)
    })
}

/// Deletes the page named by `key` if `if_match` names its current version;
/// its children move to the top level, its revisions go with it.
pub fn delete(c: &mut DbConnection, key: &IdOrSlug, if_match: Option<&str>) -> Result<(), ApiError> {
    c.transaction(|c| {
        let row = repo::find_by_key(c, key, true)?.ok_or_else(|| ApiError::NotFound("no such page".into()))?;
        check_if_match(if_match, &row)?;
        Ok(repo::delete(c, row.id)?)
    })
}

/// The snapshot of revision `rev` of page `id` (404 when there is none).
pub fn revision_state(c: &mut DbConnection, id: i64, rev: i64) -> Result<(repo::RevisionMeta, PageState), ApiError> {
    let (meta, snapshot) = repo::find_revision(c, id, rev)?
        .ok_or_else(|| ApiError::NotFound(format!("page {id} has no revision {rev}")))?;
    let st: PageState = serde_json::from_str(&snapshot).map_err(anyhow::Error::from)?;
    Ok((meta, st))
}

/// Restores the content of revision `rev` onto the page named by `key` if
/// `if_match` names its current version; `body_html` is the revision's body
/// rendered before the transaction (from [`revision_state`]). The status and
/// publication time are kept (restoring never publishes or unpublishes); a
/// slug now taken by another page, or a parent that is gone or would make a
/// loop, stays as it is now. A new revision records the restore.
pub fn restore(
    c: &mut DbConnection,
    key: &IdOrSlug,
    rev: i64,
    body_html: String,
    if_match: Option<&str>,
    user: Option<i64>,
) -> Result<PageRow, ApiError> {
    c.transaction(|c| {
        let row = repo::find_by_key(c, key, true)?.ok_or_else(|| ApiError::NotFound("no such page".into()))?;
        check_if_match(if_match, &row)?;
        let (_, st) = revision_state(c, row.id, rev)?;
        let mut form = PageForm::of(&row);
        form.title = st.title;
        form.body_source = st.body_source;
        form.body_html = body_html;
        form.menu_order = st.menu_order;
        if st.slug != row.slug {
            slugs::lock_for(c, "pages")?;
            if !repo::slug_taken(c, &st.slug, Some(row.id))? {
                form.slug = st.slug;
            }
        }
        if st.parent_id != row.parent_id && check_parent(c, Some(row.id), st.parent_id).is_ok() {
            form.parent_id = st.parent_id;
        }
        save(c, row, form, user, crate::db::now())
    })
}
