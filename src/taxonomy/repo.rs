//! Queries on `categories` and `tags` (and their slug histories). The two
//! tables share their column names, so each query is written once and
//! expanded for both by [`on_table!`].

use diesel::prelude::*;

use super::model::{CategoryRow, TagRow, Term};
use super::Kind;
use crate::db::schema::{article_categories, article_tags, categories};
use crate::db::DbConnection;
use crate::pagination::PageParams;
use crate::slugs::IdOrSlug;

/// Runs `$body` with `$t` bound to the kind's table module, `$h` to its
/// slug-history table module and `$row` to its row type.
macro_rules! on_table {
    ($kind:expr, |$t:ident, $h:ident, $row:ident| $body:expr) => {
        match $kind {
            Kind::Category => {
                #[allow(unused_imports)]
                use crate::db::schema::{categories as $t, category_slug_history as $h};
                #[allow(dead_code)]
                type $row = CategoryRow;
                $body
            }
            Kind::Tag => {
                #[allow(unused_imports)]
                use crate::db::schema::{tag_slug_history as $h, tags as $t};
                #[allow(dead_code)]
                type $row = TagRow;
                $body
            }
        }
    };
}

/// Fields written on create; the slug is already checked free.
#[derive(Clone, Debug)]
pub struct NewTerm<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub meta_title: Option<&'a str>,
    pub meta_description: Option<&'a str>,
    /// Categories only; ignored for tags.
    pub parent_id: Option<i64>,
}

/// Fields changed by an update: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct TermChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub meta_title: Option<Option<String>>,
    pub meta_description: Option<Option<String>>,
    /// Categories only; ignored for tags.
    pub parent_id: Option<Option<i64>>,
}

/// A page of terms ordered by name, and the total count.
pub fn list(conn: &mut DbConnection, kind: Kind, page: &PageParams) -> QueryResult<(Vec<Term>, i64)> {
    on_table!(kind, |t, h, Row| {
        let total = t::table.count().get_result(conn)?;
        let rows = t::table
            .order((t::name.asc(), t::id.asc()))
            .limit(page.per_page)
            .offset(page.offset())
            .select(Row::as_select())
            .load::<Row>(conn)?;
        Ok((rows.into_iter().map(Term::from).collect(), total))
    })
}

/// The term with this id.
pub fn find(conn: &mut DbConnection, kind: Kind, id: i64) -> QueryResult<Option<Term>> {
    on_table!(kind, |t, h, Row| {
        Ok(t::table.find(id).select(Row::as_select()).first::<Row>(conn).optional()?.map(Term::from))
    })
}

/// The term named by id or current slug.
pub fn find_by_key(conn: &mut DbConnection, kind: Kind, key: &IdOrSlug) -> QueryResult<Option<Term>> {
    match key {
        IdOrSlug::Id(id) => find(conn, kind, *id),
        IdOrSlug::Slug(s) => on_table!(kind, |t, h, Row| {
            Ok(t::table.filter(t::slug.eq(s)).select(Row::as_select()).first::<Row>(conn).optional()?.map(Term::from))
        }),
    }
}

/// The term that used to be called `old` (from its slug history).
pub fn redirect_for(conn: &mut DbConnection, kind: Kind, old: &str) -> QueryResult<Option<Term>> {
    let id: Option<i64> =
        on_table!(kind, |t, h, Row| h::table.filter(h::slug.eq(old)).select(h::term_id).first(conn).optional())?;
    match id {
        Some(id) => find(conn, kind, id),
        None => Ok(None),
    }
}

/// Ids of the terms named by `slugs`, current or former: `(slug, id)` pairs,
/// two queries whatever the count.
pub fn ids_for_slugs(conn: &mut DbConnection, kind: Kind, slugs: &[String]) -> QueryResult<Vec<(String, i64)>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    on_table!(kind, |t, h, Row| {
        let mut found: Vec<(String, i64)> =
            t::table.filter(t::slug.eq_any(slugs)).select((t::slug, t::id)).load(conn)?;
        let old: Vec<(String, i64)> =
            h::table.filter(h::slug.eq_any(slugs)).select((h::slug, h::term_id)).load(conn)?;
        found.extend(old);
        Ok(found)
    })
}

/// Whether `slug` names a term other than `except`, now or in its slug history.
pub fn slug_taken(conn: &mut DbConnection, kind: Kind, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    on_table!(kind, |t, h, Row| {
        let id: Option<i64> = t::table.filter(t::slug.eq(slug)).select(t::id).first(conn).optional()?;
        if id.is_some() && id != except {
            return Ok(true);
        }
        let old: Option<i64> = h::table.filter(h::slug.eq(slug)).select(h::term_id).first(conn).optional()?;
        Ok(old.is_some() && old != except)
    })
}

/// Inserts a term; returns it.
pub fn insert(conn: &mut DbConnection, kind: Kind, new: &NewTerm) -> QueryResult<Term> {
    let now = crate::db::now();
    let id: i64 = on_table!(kind, |t, h, Row| {
        diesel::insert_into(t::table)
            .values((
                t::slug.eq(new.slug),
                t::name.eq(new.name),
                t::description.eq(new.description),
                t::meta_title.eq(new.meta_title),
                t::meta_description.eq(new.meta_description),
                t::created_at.eq(now),
                t::updated_at.eq(now),
            ))
            .returning(t::id)
            .get_result(conn)?
    });
    if kind == Kind::Category && new.parent_id.is_some() {
        set_parent(conn, id, new.parent_id)?;
    }
    find(conn, kind, id)?.ok_or(diesel::result::Error::NotFound)
}

/// Applies `ch` to term `id`; returns the updated term.
pub fn update(conn: &mut DbConnection, kind: Kind, id: i64, ch: &TermChanges) -> QueryResult<Term> {
    let now = crate::db::now();
    on_table!(kind, |t, h, Row| {
        diesel::update(t::table.find(id)).set(t::updated_at.eq(now)).execute(conn)?;
        if let Some(v) = &ch.slug {
            diesel::update(t::table.find(id)).set(t::slug.eq(v)).execute(conn)?;
        }
        if let Some(v) = &ch.name {
            diesel::update(t::table.find(id)).set(t::name.eq(v)).execute(conn)?;
        }
        if let Some(v) = &ch.description {
            diesel::update(t::table.find(id)).set(t::description.eq(v)).execute(conn)?;
        }
        if let Some(v) = &ch.meta_title {
            diesel::update(t::table.find(id)).set(t::meta_title.eq(v)).execute(conn)?;
        }
        if let Some(v) = &ch.meta_description {
            diesel::update(t::table.find(id)).set(t::meta_description.eq(v)).execute(conn)?;
        }
    });
    if let (Kind::Category, Some(parent)) = (kind, ch.parent_id) {
        set_parent(conn, id, parent)?;
    }
    find(conn, kind, id)?.ok_or(diesel::result::Error::NotFound)
}

/// Records that term `id` used to be called `old`, and frees `new` from its own history.
pub fn record_slug_change(conn: &mut DbConnection, kind: Kind, id: i64, old: &str, new: &str) -> QueryResult<()> {
    let now = crate::db::now();
    on_table!(kind, |t, h, Row| {
        diesel::delete(h::table.filter(h::slug.eq(new)).filter(h::term_id.eq(id))).execute(conn)?;
        diesel::delete(h::table.filter(h::slug.eq(old))).execute(conn)?;
        diesel::insert_into(h::table)
            .values((h::slug.eq(old), h::term_id.eq(id), h::created_at.eq(now)))
            .execute(conn)?;
        Ok(())
    })
}

/// Ids of category `id`'s ancestors, nearest first (stops at a cycle).
pub fn ancestors(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut at = Some(id);
    while let Some(current) = at {
        let parent: Option<Option<i64>> =
            categories::table.find(current).select(categories::parent_id).first(conn).optional()?;
        at = parent.flatten();
        match at {
            Some(p) if p == id || out.contains(&p) => break,
            Some(p) => out.push(p),
            None => {}
        }
    }
    Ok(out)
}

/// Serializes structural changes to `kind`'s terms until the transaction
/// ends, so two concurrent category moves (A under B, B under A) cannot both
/// pass the cycle check, and two reciprocal tag merges cannot both start.
/// PostgreSQL: `SHARE ROW EXCLUSIVE` conflicts with itself and with writes,
/// not with reads. SQLite: writers are already serialized.
pub fn lock_terms(conn: &mut DbConnection, kind: Kind) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", kind.plural()))
                .execute(pg)
                .map(|_| ())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Sets the parent of category `id`.
pub fn set_parent(conn: &mut DbConnection, id: i64, parent: Option<i64>) -> QueryResult<()> {
    diesel::update(categories::table.find(id)).set(categories::parent_id.eq(parent)).execute(conn).map(|_| ())
}

/// What deleting a term changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Articles that were filed under the term.
    pub articles_detached: i64,
    /// Child categories moved up to the deleted one's parent.
    pub children_moved: i64,
}

/// Deletes term `id`: a category's children move up to its parent, and
/// articles lose the term (they stay otherwise unchanged).
pub fn delete(conn: &mut DbConnection, kind: Kind, term: &Term) -> QueryResult<Deleted> {
    let mut out = Deleted::default();
    if kind == Kind::Category {
        out.children_moved = diesel::update(categories::table.filter(categories::parent_id.eq(term.id)))
            .set(categories::parent_id.eq(term.parent_id))
            .execute(conn)? as i64;
    }
    out.articles_detached = match kind {
        Kind::Category => diesel::delete(article_categories::table.filter(article_categories::category_id.eq(term.id)))
            .execute(conn)?,
        Kind::Tag => diesel::delete(article_tags::table.filter(article_tags::tag_id.eq(term.id))).execute(conn)?,
    } as i64;
    on_table!(kind, |t, h, Row| diesel::delete(t::table.find(term.id)).execute(conn))?;
    Ok(out)
}

/// Merges tag `from` into tag `into`: every article filed under `from` is
/// filed under `into` (once), `from`'s slug and slug history point at
/// `into`, and `from` is deleted. Returns how many articles were re-filed.
pub fn merge_tags(conn: &mut DbConnection, from: &Term, into: &Term) -> QueryResult<i64> {
    use crate::db::schema::tag_slug_history as h;
    let both: Vec<i64> =
        article_tags::table.filter(article_tags::tag_id.eq(into.id)).select(article_tags::article_id).load(conn)?;
    diesel::delete(
        article_tags::table.filter(article_tags::tag_id.eq(from.id)).filter(article_tags::article_id.eq_any(&both)),
    )
    .execute(conn)?;
    let moved = diesel::update(article_tags::table.filter(article_tags::tag_id.eq(from.id)))
        .set(article_tags::tag_id.eq(into.id))
        .execute(conn)?;
    diesel::update(h::table.filter(h::term_id.eq(from.id))).set(h::term_id.eq(into.id)).execute(conn)?;
    diesel::delete(crate::db::schema::tags::table.find(from.id)).execute(conn)?;
    diesel::insert_into(h::table)
        .values((h::slug.eq(&from.slug), h::term_id.eq(into.id), h::created_at.eq(crate::db::now())))
        .execute(conn)?;
    Ok(moved as i64)
}

// ---- the WordPress importer's upserts ----

/// The row imported from `source` under `key`, if any.
pub fn find_imported(conn: &mut DbConnection, kind: Kind, source: &str, key: &str) -> QueryResult<Option<i64>> {
    on_table!(kind, |t, h, Row| {
        t::table.filter(t::import_source.eq(source)).filter(t::import_key.eq(key)).select(t::id).first(conn).optional()
    })
}

/// Inserts or updates the term imported from `source` under `key`. A new
/// term takes `slug` (already unique); an existing one keeps its slug (and,
/// for a category, its parent). Returns the id and whether it was created.
pub fn upsert_imported(
    conn: &mut DbConnection,
    kind: Kind,
    source: &str,
    key: &str,
    slug: &str,
    name: &str,
    description: Option<&str>,
) -> QueryResult<(i64, bool)> {
    let now = crate::db::now();
    if let Some(id) = find_imported(conn, kind, source, key)? {
        on_table!(kind, |t, h, Row| {
            diesel::update(t::table.find(id)).set((t::name.eq(name), t::description.eq(description))).execute(conn)
        })?;
        return Ok((id, false));
    }
    let id = on_table!(kind, |t, h, Row| {
        diesel::insert_into(t::table)
            .values((
                t::slug.eq(slug),
                t::name.eq(name),
                t::description.eq(description),
                t::import_source.eq(source),
                t::import_key.eq(key),
                t::created_at.eq(now),
                t::updated_at.eq(now),
            ))
            .returning(t::id)
            .get_result(conn)
    })?;
    Ok((id, true))
}
