//! The write rules for pages: validation, slugs and the parent tree.

use diesel::Connection;

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
            return Err(ApiError::invalid("parent_id", "would make the page its own ancestor"));
        }
        steps += 1;
        if steps > 10_000 {
            break;
        }
        cursor = repo::parent_of(c, at)?;
    }
    Ok(())
}

/// Creates a page (the caller checked permission); `body_html` is the
/// sanitized body from [`render_body`], done before the transaction.
pub fn create(c: &mut DbConnection, b: &CreatePage, body_html: String) -> Result<PageRow, ApiError> {
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
        Ok(repo::insert(c, &form, now)?)
    })
}

/// Applies `b` to the page named by `key`; `body_html` is the sanitized new
/// body when `b.body` is given.
pub fn update(
    c: &mut DbConnection,
    key: &IdOrSlug,
    b: &UpdatePage,
    body_html: Option<String>,
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
        form.updated_at = now;
        Ok(repo::update(c, row.id, &form)?)
    })
}
