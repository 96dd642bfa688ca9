//! Queries on `media`.

use diesel::prelude::*;

use super::model::{MediaForm, MediaRow};
use crate::db::schema::media;
use crate::db::DbConnection;

/// The media record `id`.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<MediaRow> {
    media::table.find(id).select(MediaRow::as_select()).first(conn)
}

/// The media records among `ids`, in one query.
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<MediaRow>> {
    media::table.filter(crate::db::cached::any_of(media::id, ids)).select(MediaRow::as_select()).load(conn)
}

/// Inserts `form`, or updates the row with the same import source and key.
/// Returns the id and whether a row was created.
pub fn upsert_imported(conn: &mut DbConnection, form: &MediaForm) -> QueryResult<(i64, bool)> {
    let existing: Option<i64> = media::table
        .filter(media::import_source.eq(&form.import_source))
        .filter(media::import_key.eq(&form.import_key))
        .select(media::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => {
            diesel::update(media::table.find(id)).set(form).execute(conn)?;
            Ok((id, false))
        }
        None => {
            // Imported media has no uploader: it is the newsroom's common library.
            let id = diesel::insert_into(media::table)
                .values((form, media::shared.eq(true)))
                .returning(media::id)
                .get_result(conn)?;
            Ok((id, true))
        }
    }
}

/// Writes an imported record with its stored file: the row with `form`'s
/// import source and key gets `form` and `file`, or is created (shared, no
/// uploader). Returns the row and the hash of the file it held before, if any.
pub fn upsert_imported_file(
    conn: &mut DbConnection,
    form: &MediaForm,
    file: &super::model::StoredFile,
) -> QueryResult<(MediaRow, Option<String>)> {
    let existing: Option<(i64, Option<String>)> = media::table
        .filter(media::import_source.eq(&form.import_source))
        .filter(media::import_key.eq(&form.import_key))
        .select((media::id, media::sha256))
        .first(conn)
        .optional()?;
    match existing {
        Some((id, old)) => {
            diesel::update(media::table.find(id)).set((form, file)).execute(conn)?;
            Ok((find(conn, id)?, old))
        }
        None => {
            let id: i64 = diesel::insert_into(media::table)
                .values((form, file, media::shared.eq(true)))
                .returning(media::id)
                .get_result(conn)?;
            Ok((find(conn, id)?, None))
        }
    }
}

/// The import keys of every record imported from `source`, in one query.
pub fn imported_keys(conn: &mut DbConnection, source: &str) -> QueryResult<std::collections::HashSet<String>> {
    let keys: Vec<Option<String>> =
        media::table.filter(media::import_source.eq(source)).select(media::import_key).load(conn)?;
    Ok(keys.into_iter().flatten().collect())
}

/// The imported records of `source` that hold a stored file (downloaded by
/// an earlier `--media download`), in one query.
pub fn hosted_imports(conn: &mut DbConnection, source: &str) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::import_source.eq(source))
        .filter(media::storage_key.is_not_null())
        .select(MediaRow::as_select())
        .load(conn)
}

/// Filters of `GET /media`.
#[derive(Clone, Debug, Default)]
pub struct MediaFilter {
    /// `image`, `audio`, `video` or `document`.
    pub kind: Option<String>,
    /// Uploader's user id.
    pub uploaded_by: Option<i64>,
    /// Case-insensitive substring of title, alt text, caption or credit.
    pub q: Option<String>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
}

/// The `search_text` column: title, alt text, caption and credit, lowercased
/// with Unicode rules here (not by the database, so both backends match the
/// same rows).
pub fn search_text<'a>(fields: impl IntoIterator<Item = &'a Option<String>>) -> String {
    fields.into_iter().flatten().map(|s| s.to_lowercase()).collect::<Vec<_>>().join(" ")
}

/// `s` with LIKE wildcards escaped (escape character `\`).
fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for ch in s.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// One page of media matching `filter`, newest first, and the total: two queries.
pub fn list(
    conn: &mut DbConnection,
    filter: &MediaFilter,
    page: &crate::pagination::PageParams,
) -> QueryResult<(Vec<MediaRow>, i64)> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let build = || {
        let mut q = media::table.into_boxed();
        if let Some(kind) = &filter.kind {
            q = q.filter(media::kind.eq(kind.clone()));
        }
        if let Some(user) = filter.uploaded_by {
            q = q.filter(media::uploaded_by.eq(user));
        }
        if let Some(text) = &filter.q {
            let pattern = like_pattern(text);
            // LIKE on both backends: case-sensitive on PostgreSQL, ASCII-folding
            // on SQLite; both operands are already lowercase, so they agree.
            let like = sql::<Bool>("search_text LIKE ").bind::<Text, _>(pattern).sql(" ESCAPE '\\'");
            q = q.filter(like);
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let ordered = if filter.oldest_first {
        build().order((media::created_at.asc(), media::id.asc()))
    } else {
        build().order((media::created_at.desc(), media::id.desc()))
    };
    let rows = ordered.limit(page.per_page).offset(page.offset()).select(MediaRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// Inserts an uploaded file's record.
pub fn insert_upload(conn: &mut DbConnection, form: &super::model::NewUpload) -> QueryResult<MediaRow> {
    let id: i64 = diesel::insert_into(media::table).values(form).returning(media::id).get_result(conn)?;
    find(conn, id)
}

/// Applies `changes` to media `id` and returns the row.
pub fn update(conn: &mut DbConnection, id: i64, changes: &super::model::MediaChanges) -> QueryResult<MediaRow> {
    let n = diesel::update(media::table.find(id)).set(changes).execute(conn)?;
    if n == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    find(conn, id)
}

/// The articles (featured or Open Graph image) and authors (avatar) that
/// refer to media `id`: two queries.
pub fn references(conn: &mut DbConnection, id: i64) -> QueryResult<super::dto::MediaReferences> {
    use crate::db::schema::{articles, authors};
    let arts: Vec<(i64, String, String)> = articles::table
        .filter(articles::featured_media_id.eq(id).or(articles::og_image_media_id.eq(id)))
        .order(articles::id)
        .select((articles::id, articles::slug, articles::title))
        .load(conn)?;
    let auths: Vec<(i64, String, String)> = authors::table
        .filter(authors::avatar_media_id.eq(id))
        .order(authors::id)
        .select((authors::id, authors::slug, authors::display_name))
        .load(conn)?;
    Ok(super::dto::MediaReferences {
        articles: arts.into_iter().map(|(id, slug, title)| super::dto::ArticleRef { id, slug, title }).collect(),
        authors: auths.into_iter().map(|(id, slug, name)| super::dto::AuthorRef { id, slug, name }).collect(),
    })
}

/// Clears every reference to media `id` (featured and Open Graph image of
/// articles, which get a new version; author avatars).
pub fn detach(conn: &mut DbConnection, id: i64, now: chrono::NaiveDateTime) -> QueryResult<()> {
    use crate::db::schema::{articles, authors};
    diesel::update(articles::table.filter(articles::featured_media_id.eq(id)))
        .set((
            articles::featured_media_id.eq(None::<i64>),
            articles::version.eq(articles::version + 1),
            articles::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(articles::table.filter(articles::og_image_media_id.eq(id)))
        .set((
            articles::og_image_media_id.eq(None::<i64>),
            articles::version.eq(articles::version + 1),
            articles::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(authors::table.filter(authors::avatar_media_id.eq(id)))
        .set(authors::avatar_media_id.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}

/// Deletes media `id`; `NotFound` if there is none.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    let n = diesel::delete(media::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    Ok(())
}

/// How many media records share the stored file with this hash.
pub fn count_with_hash(conn: &mut DbConnection, sha256: &str) -> QueryResult<i64> {
    media::table.filter(media::sha256.eq(sha256)).count().get_result(conn)
}

/// Serializes, for the rest of the transaction, everything that creates or
/// removes records of the stored file `sha256` (a PostgreSQL advisory lock;
/// on SQLite the writer mutex of `db::write` already does).
pub fn lock_file(conn: &mut DbConnection, sha256: &str) -> QueryResult<()> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(format!("broadsheet.media.{sha256}"))
            .execute(conn)?;
    }
    Ok(())
}
