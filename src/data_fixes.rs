//! Data fixes that SQL cannot express on both backends. Each runs once,
//! right after the (marker) migration that names it is applied. This module
//! sits above the resources (as `cli` and `startup` do), so `db` never
//! imports resource code.

use crate::db::DbConnection;

/// Applies pending migrations ([`crate::db::migrate`]), then the data fixes
/// whose marker migrations were among them. Returns the applied versions.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = crate::db::migrate(conn)?;
    if applied.iter().any(|v| v.replace('-', "").starts_with("20261202000091")) {
        plain_imported_titles(conn).map_err(|e| anyhow::anyhow!("migration 2026-12-02-000091 failed: {e}"))?;
    }
    Ok(applied)
}

/// Converts the titles ([`crate::text::plain_title`]) and excerpts
/// ([`crate::articles::render::plain_text`]) of imported articles to plain
/// text; those written through the API are left alone (a title typed there
/// was already plain text, even with `<` or `&` in it).
fn plain_imported_titles(conn: &mut DbConnection) -> diesel::QueryResult<usize> {
    use crate::db::schema::articles;
    use diesel::prelude::*;
    let rows: Vec<(i64, String)> = articles::table
        .filter(articles::import_source.is_not_null())
        .filter(articles::title.like("%<%").or(articles::title.like("%&%")))
        .select((articles::id, articles::title))
        .load(conn)?;
    let mut changed = 0;
    for (id, title) in rows {
        let plain = crate::text::plain_title(&title);
        if plain != title {
            changed += diesel::update(articles::table.find(id)).set(articles::title.eq(plain)).execute(conn)?;
        }
    }
    // Imported excerpts were stored as sanitized HTML; they become text too.
    let excerpts: Vec<(i64, String)> = articles::table
        .filter(articles::import_source.is_not_null())
        .filter(articles::excerpt.like("%<%").or(articles::excerpt.like("%&%")))
        .select((articles::id, articles::excerpt.assume_not_null()))
        .load(conn)?;
    for (id, excerpt) in excerpts {
        let plain = crate::articles::render::plain_text(&excerpt);
        if plain != excerpt {
            let value = Some(plain).filter(|p| !p.is_empty());
            changed += diesel::update(articles::table.find(id)).set(articles::excerpt.eq(value)).execute(conn)?;
        }
    }
    Ok(changed)
}
