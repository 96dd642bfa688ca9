//! The write rules for categories and tags: validation, slugs (with
//! history), a category's place in the tree, deletes and tag merges. Each
//! function runs inside the caller's transaction; the CLI and the handlers
//! call the same functions.

use super::dto::TermKey;
use super::model::Term;
use super::repo::{self, Deleted, NewTerm, TermChanges};
use super::Kind;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::slugs::{self, IdOrSlug};

/// A create or update, whichever kind: `None` leaves a field alone (on
/// create: its default), `Some(None)` clears it. `parent_id` is read only
/// for categories.
#[derive(Clone, Debug, Default)]
pub struct TermInput {
    /// Display name.
    pub name: Option<String>,
    /// Slug; derived from the name on create when `None`.
    pub slug: Option<String>,
    /// Description.
    pub description: Option<Option<String>>,
    /// SEO title.
    pub meta_title: Option<Option<String>>,
    /// SEO description.
    pub meta_description: Option<Option<String>>,
    /// Parent category id.
    pub parent_id: Option<Option<i64>>,
}

fn text_problem(field: &str, v: &str, min: usize, max: usize) -> Option<ApiError> {
    let n = v.trim().chars().count();
    if v.contains('\0') {
        Some(ApiError::invalid(field, "must not contain NUL characters"))
    } else if n < min || v.chars().count() > max {
        Some(ApiError::invalid(field, format!("must be {min} to {max} characters")))
    } else {
        None
    }
}

/// Checks shapes (400, naming the field).
pub fn check(input: &TermInput) -> Result<(), ApiError> {
    if let Some(e) = input.name.as_deref().and_then(|n| text_problem("name", n, 1, 200)) {
        return Err(e);
    }
    if input.slug.as_deref().is_some_and(|s| !slugs::is_valid(s)) {
        return Err(ApiError::invalid("slug", "must be lowercase letters, digits and single hyphens, not all digits"));
    }
    for (field, value, max) in [
        ("description", &input.description, 2000),
        ("meta_title", &input.meta_title, 300),
        ("meta_description", &input.meta_description, 500),
    ] {
        if let Some(e) = value.clone().flatten().and_then(|v| text_problem(field, &v, 0, max)) {
            return Err(e);
        }
    }
    if input.parent_id.flatten().is_some_and(|p| p < 1) {
        return Err(ApiError::invalid("parent_id", "must be a positive id"));
    }
    Ok(())
}

fn not_found(kind: Kind, raw: &str) -> ApiError {
    let shown: String = raw.chars().take(100).collect();
    ApiError::NotFound(format!("no {} `{shown}`", kind.noun()))
}

/// The term named by a path segment (id or current slug), or 404.
pub fn find(c: &mut DbConnection, kind: Kind, raw: &str) -> Result<Term, ApiError> {
    repo::find_by_key(c, kind, &IdOrSlug::parse(raw))?.ok_or_else(|| not_found(kind, raw))
}

/// Refuses a parent that does not exist, is the category itself, or is one
/// of its descendants (422 naming `parent_id`).
fn check_parent(c: &mut DbConnection, id: Option<i64>, parent: i64) -> Result<(), ApiError> {
    if Some(parent) == id {
        return Err(ApiError::unprocessable("parent_id", "cannot be the category itself"));
    }
    if repo::find(c, Kind::Category, parent)?.is_none() {
        return Err(ApiError::unprocessable("parent_id", format!("names category {parent}, which does not exist")));
    }
    if let Some(id) = id {
        repo::lock_terms(c, Kind::Category)?;
        if repo::ancestors(c, parent)?.contains(&id) {
            return Err(ApiError::unprocessable(
                "parent_id",
                "would make a cycle: it is a descendant of this category",
            ));
        }
    }
    Ok(())
}

/// Creates a term. 400 for bad shapes, 409 for a taken slug, 422 for a bad parent.
pub fn create(c: &mut DbConnection, kind: Kind, input: TermInput) -> Result<Term, ApiError> {
    check(&input)?;
    let name = input.name.as_deref().map(str::trim).ok_or_else(|| ApiError::invalid("name", "is required"))?;
    slugs::lock_for(c, kind.plural())?;
    let slug = match &input.slug {
        Some(s) if repo::slug_taken(c, kind, s, None)? => {
            return Err(ApiError::Conflict(format!("slug `{s}` is taken")));
        }
        Some(s) => s.clone(),
        None => {
            let base = Some(slugs::slugify(name)).filter(|s| !s.is_empty()).unwrap_or_else(|| kind.noun().into());
            slugs::unique(&base, |s| repo::slug_taken(c, kind, s, None))?
        }
    };
    let parent_id = if kind == Kind::Category { input.parent_id.flatten() } else { None };
    if let Some(p) = parent_id {
        check_parent(c, None, p)?;
    }
    let new = NewTerm {
        slug: &slug,
        name,
        description: input.description.as_ref().and_then(|d| d.as_deref()),
        meta_title: input.meta_title.as_ref().and_then(|d| d.as_deref()),
        meta_description: input.meta_description.as_ref().and_then(|d| d.as_deref()),
        parent_id,
    };
    Ok(repo::insert(c, kind, &new)?)
}

/// Updates the term named by `raw`. A slug change keeps the old slug in the
/// history (it answers 301). 404, 400, 409 and 422 as for [`create`].
pub fn update(c: &mut DbConnection, kind: Kind, raw: &str, input: TermInput) -> Result<Term, ApiError> {
    check(&input)?;
    let term = find(c, kind, raw)?;
    if let Some(slug) = input.slug.as_deref().filter(|s| *s != term.slug) {
        slugs::lock_for(c, kind.plural())?;
        if repo::slug_taken(c, kind, slug, Some(term.id))? {
            return Err(ApiError::Conflict(format!("slug `{slug}` is taken")));
        }
        repo::record_slug_change(c, kind, term.id, &term.slug, slug)?;
    }
    let parent_id = if kind == Kind::Category { input.parent_id } else { None };
    if let Some(Some(p)) = parent_id {
        check_parent(c, Some(term.id), p)?;
    }
    let changes = TermChanges {
        slug: input.slug,
        name: input.name.map(|n| n.trim().to_owned()),
        description: input.description,
        meta_title: input.meta_title,
        meta_description: input.meta_description,
        parent_id,
    };
    Ok(repo::update(c, kind, term.id, &changes)?)
}

/// Deletes the term named by `raw`; see [`repo::delete`] for what moves.
pub fn delete(c: &mut DbConnection, kind: Kind, raw: &str) -> Result<(Term, Deleted), ApiError> {
    let term = find(c, kind, raw)?;
    let report = repo::delete(c, kind, &term)?;
    Ok((term, report))
}

/// Merges the tag named by `raw` into `into`. 404 for an unknown `raw`; 422
/// naming `into` when it is unknown or the same tag. Returns the merged tag
/// (as it was), the surviving tag and how many articles moved.
pub fn merge_tags(c: &mut DbConnection, raw: &str, into: &TermKey) -> Result<(Term, Term, i64), ApiError> {
    // Reciprocal merges (A into B, B into A) at once: the second waits and
    // then finds its `into` merged away, instead of a bare foreign-key 422.
    repo::lock_terms(c, Kind::Tag)?;
    let from = find(c, Kind::Tag, raw)?;
    let into_id = resolve(c, Kind::Tag, "into", std::slice::from_ref(into))?[0];
    if into_id == from.id {
        return Err(ApiError::unprocessable("into", "cannot be the tag being merged"));
    }
    let target = repo::find(c, Kind::Tag, into_id)?
        .ok_or_else(|| ApiError::unprocessable("into", format!("names tag {into_id}, which does not exist")))?;
    let moved = repo::merge_tags(c, &from, &target)?;
    let target = repo::find(c, Kind::Tag, target.id)?.ok_or(diesel::result::Error::NotFound)?;
    Ok((from, target, moved))
}

/// Turns ids and slugs (current or former) into ids, in order. Ids are
/// passed through unchecked (the caller's existence check reports them);
/// an unknown slug is 422 naming `field`. Two queries whatever the count.
pub fn resolve(c: &mut DbConnection, kind: Kind, field: &str, keys: &[TermKey]) -> Result<Vec<i64>, ApiError> {
    let wanted: Vec<String> = keys
        .iter()
        .filter_map(|k| match k {
            TermKey::Slug(s) => Some(s.clone()),
            TermKey::Id(_) => None,
        })
        .collect();
    let found = repo::ids_for_slugs(c, kind, &wanted)?;
    keys.iter()
        .map(|k| match k {
            TermKey::Id(id) => Ok(*id),
            TermKey::Slug(s) => found.iter().find(|(slug, _)| slug == s).map(|(_, id)| *id).ok_or_else(|| {
                let shown: String = s.chars().take(100).collect();
                ApiError::unprocessable(field, format!("names {} `{shown}`, which does not exist", kind.noun()))
            }),
        })
        .collect()
}
