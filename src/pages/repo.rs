//! Queries on `pages`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{status, PageForm, PageRow};
use crate::db::schema::pages;
use crate::db::DbConnection;
use crate::pagination::PageParams;
use crate::slugs::IdOrSlug;

/// The page named by id or slug; drafts only when `drafts`.
pub fn find_by_key(conn: &mut DbConnection, key: &IdOrSlug, drafts: bool) -> QueryResult<Option<PageRow>> {
    let mut q = pages::table.select(PageRow::as_select()).into_boxed();
    q = match key {
        IdOrSlug::Id(id) => q.filter(pages::id.eq(*id)),
        IdOrSlug::Slug(s) => q.filter(pages::slug.eq(s.clone())),
    };
    if !drafts {
        q = q.filter(pages::status.eq(status::PUBLISHED));
    }
    q.first(conn).optional()
}

/// A page of pages by menu order then title, and the total; drafts only when `drafts`.
pub fn list(conn: &mut DbConnection, page: &PageParams, drafts: bool) -> QueryResult<(Vec<PageRow>, i64)> {
    let filtered = || {
        let q = pages::table.into_boxed();
        if drafts {
            q
        } else {
            q.filter(pages::status.eq(status::PUBLISHED))
        }
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((pages::menu_order.asc(), pages::title.asc(), pages::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(PageRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Whether `slug` names a page other than `except`.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let id: Option<i64> = pages::table.filter(pages::slug.eq(slug)).select(pages::id).first(conn).optional()?;
    Ok(id.is_some() && id != except)
}

/// The parent of page `id`, if any (`None` also when there is no such page).
pub fn parent_of(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i64>> {
    Ok(pages::table.find(id).select(pages::parent_id).first(conn).optional()?.flatten())
}

/// Whether page `id` exists.
pub fn exists(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(pages::table.find(id))).get_result(conn)
}

/// Inserts a page at version 1; returns it.
pub fn insert(conn: &mut DbConnection, form: &PageForm, created_at: NaiveDateTime) -> QueryResult<PageRow> {
    let id: i64 = diesel::insert_into(pages::table)
        .values((form, pages::created_at.eq(created_at), pages::version.eq(1)))
        .returning(pages::id)
        .get_result(conn)?;
    find(conn, id)
}

/// Page `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<PageRow> {
    pages::table.find(id).select(PageRow::as_select()).first(conn)
}

/// Writes `form` to page `id`, bumping its version; returns it.
pub fn update(conn: &mut DbConnection, id: i64, form: &PageForm) -> QueryResult<PageRow> {
    diesel::update(pages::table.find(id)).set((form, pages::version.eq(pages::version + 1))).execute(conn)?;
    find(conn, id)
}

/// Writes `form` to page `id` if it is still at `version`, bumping the
/// version; `None` when someone saved first.
pub fn update_at(conn: &mut DbConnection, id: i64, version: i32, form: &PageForm) -> QueryResult<Option<PageRow>> {
    let n = diesel::update(pages::table.filter(pages::id.eq(id)).filter(pages::version.eq(version)))
        .set((form, pages::version.eq(version + 1)))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    find(conn, id).map(Some)
}

/// Stores a revision of page `id`.
pub fn insert_revision(
    conn: &mut DbConnection,
    id: i64,
    user: Option<i64>,
    changed: &[String],
    snapshot: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::page_revisions as r;
    diesel::insert_into(r::table)
        .values((
            r::page_id.eq(id),
            r::user_id.eq(user),
            r::changed_fields.eq(changed.join(",")),
            r::snapshot.eq(snapshot),
            r::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One stored page revision: `(id, user, changed_fields, created_at)`.
pub type RevisionMeta = (i64, Option<i64>, String, NaiveDateTime);

/// A page of revisions of page `id`, newest first, and their total.
pub fn list_revisions(conn: &mut DbConnection, id: i64, page: &PageParams) -> QueryResult<(Vec<RevisionMeta>, i64)> {
    use crate::db::schema::page_revisions as r;
    let total = r::table.filter(r::page_id.eq(id)).count().get_result(conn)?;
    let rows = r::table
        .filter(r::page_id.eq(id))
        .order(r::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((r::id, r::user_id, r::changed_fields, r::created_at))
        .load(conn)?;
    Ok((rows, total))
}

/// Revision `rev` of page `id` with its snapshot, if it exists.
pub fn find_revision(conn: &mut DbConnection, id: i64, rev: i64) -> QueryResult<Option<(RevisionMeta, String)>> {
    use crate::db::schema::page_revisions as r;
    let row: Option<(i64, Option<i64>, String, NaiveDateTime, String)> = r::table
        .filter(r::id.eq(rev))
        .filter(r::page_id.eq(id))
        .select((r::id, r::user_id, r::changed_fields, r::created_at, r::snapshot))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, user, changed, at, snapshot)| ((id, user, changed, at), snapshot)))
}

/// Deletes page `id`; its children move to the top level.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(pages::table.filter(pages::parent_id.eq(id))).set(pages::parent_id.eq(None::<i64>)).execute(conn)?;
    diesel::delete(pages::table.find(id)).execute(conn).map(|_| ())
}

/// What a re-import needs to know about a page imported earlier:
/// `(id, version, import_version, import_hash, updated_at)`.
pub type ImportedPage = (i64, i32, Option<i32>, Option<String>, NaiveDateTime);

/// The page imported from `source` under `key`, with its import state.
pub fn find_imported(conn: &mut DbConnection, source: &str, key: &str) -> QueryResult<Option<ImportedPage>> {
    pages::table
        .filter(pages::import_source.eq(source))
        .filter(pages::import_key.eq(key))
        .select((pages::id, pages::version, pages::import_version, pages::import_hash, pages::updated_at))
        .first(conn)
        .optional()
}

/// Inserts an imported page at version 1, remembering the item's hash; returns its id.
pub fn insert_imported(
    conn: &mut DbConnection,
    form: &PageForm,
    source: &str,
    key: &str,
    hash: &str,
    created_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(pages::table)
        .values((
            form,
            pages::created_at.eq(created_at),
            pages::version.eq(1),
            pages::import_source.eq(source),
            pages::import_key.eq(key),
            pages::import_version.eq(1),
            pages::import_hash.eq(hash),
        ))
        .returning(pages::id)
        .get_result(conn)
}

/// Overwrites page `id` (at `version`) with an import, bumping its version;
/// `false` when it changed meanwhile.
pub fn update_imported(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    form: &PageForm,
    hash: &str,
) -> QueryResult<bool> {
    let n = diesel::update(pages::table.filter(pages::id.eq(id)).filter(pages::version.eq(version)))
        .set((form, pages::version.eq(version + 1), pages::import_version.eq(version + 1), pages::import_hash.eq(hash)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Sets the parent of page `id` (linking imported pages once all are read).
pub fn set_parent(conn: &mut DbConnection, id: i64, parent: Option<i64>) -> QueryResult<()> {
    diesel::update(pages::table.find(id)).set(pages::parent_id.eq(parent)).execute(conn).map(|_| ())
}
