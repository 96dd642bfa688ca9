//! WordPress importer: a WXR 1.0–1.2 export into authors, categories, tags, pages,
//! media, articles and comments.
//!
//! The whole import runs in one transaction, so a file that is not WXR or is
//! truncated writes nothing. Each entry runs in its own savepoint: one bad
//! entry is reported in the [`Summary`] and skipped. Every record remembers its
//! source (`wp:base_blog_url`) and WordPress id, so importing the same file
//! again updates rows instead of adding them.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{DateTime, NaiveDateTime};
use diesel::Connection;

use super::attachments::Rewriter;
use super::html::{autop, sanitize};
use super::wxr::{self, Record, WxrAuthor, WxrError, WxrItem, WxrTerm};
use super::{Options, Summary};
use crate::articles::model::{status, ArticleForm};
use crate::authors::model::NewAuthor;
use crate::comments::model::{kind as comment_kind, status as comment_status, CommentForm};
use crate::db::DbConnection;
use crate::media::model::MediaForm;
use crate::slugs;

/// Why an import failed as a whole (and wrote nothing).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not readable WXR.
    #[error(transparent)]
    Wxr(#[from] WxrError),
    /// The database failed outside any single entry.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
    /// No database connection could be had.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A render worker stopped before its records were written (it
    /// panicked; the panic is raised again once the import rolled back).
    #[error("rendering stopped: {0}")]
    Render(&'static str),
    /// Used internally to roll back a dry run; never returned.
    #[error("dry run")]
    DryRun(Box<Summary>),
}

/// Imports a WXR export read from `input` into `conn`. With `dry_run`, all
/// work is rolled back and the summary says what would have happened.
pub fn import(conn: &mut DbConnection, input: impl BufRead, dry_run: bool) -> Result<Summary, ImportError> {
    import_with(conn, input, Options { dry_run, ..Options::default() })
}

/// [`import`] with every option: see [`Options`]. An article edited in
/// broadsheet since its last import is listed in [`Summary::conflicts`] and
/// kept, unless `options.overwrite`; an article whose WXR item is unchanged
/// since its last import is counted in [`Summary::unchanged`] and not written.
/// Attachments stay where the export says (see [`import_with_media`]).
pub fn import_with(conn: &mut DbConnection, input: impl BufRead, options: Options) -> Result<Summary, ImportError> {
    let records = read_records(input)?;
    let none = Media { hosted: &HashMap::new(), fresh: &std::collections::HashSet::new() };
    import_records(conn, records, options, Summary::default(), &none, &Rewriter::default(), &mut super::NoProgress)
}

/// Where imported attachments live (`broadsheet import wordpress --media`).
#[derive(Clone, Debug)]
pub struct MediaOptions {
    /// `PUBLIC_BASE_URL`, for the hosted copies' URLs in bodies.
    pub base_url: String,
    /// `--media download`: fetch every attachment into the media store first.
    /// `None` (`--media link`) leaves attachments not yet hosted on the old site.
    pub download: Option<super::attachments::Downloader>,
}

/// [`import_with`], reporting the write phase (one step per record) to
/// `progress`, with attachments hosted here: with `media.download`,
/// every attachment not yet hosted is fetched and stored first (see
/// [`super::attachments`]; failures are per-file warnings); then bodies'
/// URLs of every hosted attachment, from this run or an earlier one, are
/// pointed at the copies here before the import runs as usual.
///
/// A file that is not WXR fails before anything is fetched. A dry run
/// fetches nothing and counts what it would fetch. Downloaded files are
/// committed one by one, so they survive a later failure of the import
/// itself, and the next run does not fetch them again.
pub fn import_with_media(
    pool: &crate::db::Pool,
    input: impl BufRead,
    options: Options,
    media: &MediaOptions,
    progress: &mut dyn super::Progress,
) -> Result<Summary, ImportError> {
    let records = read_records(input)?;
    let source = source_of(&records);
    let mut summary = Summary::default();
    let connect = || pool.get().map_err(|e| ImportError::Unavailable(e.to_string()));
    let mut hosted = super::attachments::hosted(&mut *connect()?, &source)?;
    let mut fresh = std::collections::HashSet::new();
    if let Some(downloader) = &media.download {
        let wanted: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::Item(item) if item.get("wp:post_type") == Some("attachment") => wanted(item, &source),
                _ => None,
            })
            .collect();
        if options.dry_run {
            for w in wanted {
                match hosted.get(&w.key) {
                    Some(h) if h.source_url.as_deref() == Some(w.url.as_str()) => summary.unchanged("media files"),
                    _ => summary.skip("media downloads (dry run)"),
                }
            }
        } else {
            let before = crate::media::repo::imported_keys(&mut *connect()?, &source)?;
            let stored = downloader.run(pool, wanted, &hosted, &mut summary);
            fresh = stored.into_iter().filter(|k| !before.contains(k)).collect();
            hosted = super::attachments::hosted(&mut *connect()?, &source)?;
        }
    }
    let rewriter = Rewriter::new(&media.base_url, &hosted);
    let mut conn = connect()?;
    import_records(&mut conn, records, options, summary, &Media { hosted: &hosted, fresh: &fresh }, &rewriter, progress)
}

/// What the download step left for the import proper.
struct Media<'a> {
    /// Attachments hosted here, by import key: their records keep the
    /// sniffed type rather than the one guessed from the file name.
    hosted: &'a HashMap<String, super::attachments::Hosted>,
    /// Attachments whose records this run's downloads created (so the
    /// summary counts them as created, not updated).
    fresh: &'a std::collections::HashSet<String>,
}

/// Reads the whole export; nothing is written until it has all been read.
fn read_records(input: impl BufRead) -> Result<Vec<Record>, ImportError> {
    let mut records = Vec::new();
    wxr::read::<_, ImportError>(input, |record| {
        records.push(record);
        Ok(())
    })?;
    Ok(records)
}

/// The import source: `wp:base_blog_url`, else `wp:base_site_url`, else the
/// channel's `<link>`.
fn source_of(records: &[Record]) -> String {
    records
        .iter()
        .find_map(|r| match r {
            Record::Channel(c) => {
                Some(c.base_blog_url.clone().or(c.base_site_url.clone()).or(c.link.clone()).unwrap_or_default())
            }
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "wordpress".into())
}

/// The attachment URL of an item: `wp:attachment_url`, else its guid.
fn attachment_url(item: &WxrItem) -> Option<&str> {
    item.get("wp:attachment_url").or_else(|| item.get("guid"))
}

/// The file name of an attachment: the last segment of its URL's path.
fn attachment_file_name(url: Option<&str>, key: &str) -> String {
    url.and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_owned)))
        .map(|s| percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("attachment-{key}"))
}

/// The media record an attachment item imports as (its metadata; the file,
/// when downloaded, comes with [`crate::media::service::store_import`]).
fn attachment_form(item: &WxrItem, key: &str, source: &str) -> MediaForm {
    let url = attachment_url(item).map(str::to_owned);
    let file_name = attachment_file_name(url.as_deref(), key);
    let mime_type = mime_guess::from_path(&file_name).first().map(|m| m.essence_str().to_owned());
    let created = item_time(item, "wp:post_date_gmt", "wp:post_date").unwrap_or_else(crate::db::now);
    let updated = item_time(item, "wp:post_modified_gmt", "wp:post_modified").unwrap_or(created);
    let (title, alt_text, caption) = (
        item.get("title").map(str::to_owned),
        item.meta("_wp_attachment_image_alt").map(str::to_owned),
        item.get("excerpt:encoded").map(str::to_owned),
    );
    MediaForm {
        search_text: crate::media::repo::search_text([&title, &alt_text, &caption]),
        file_name: crate::media::process::sanitize_file_name(&file_name),
        kind: crate::media::process::kind_for(mime_type.as_deref().unwrap_or("")).to_owned(),
        mime_type,
        title,
        alt_text,
        caption,
        credit: None,
        source_url: url,
        import_source: Some(source.to_owned()),
        import_key: Some(key.to_owned()),
        created_at: created,
        updated_at: updated,
    }
}

/// The download an attachment item asks for, if it has a key and a URL.
fn wanted(item: &WxrItem, source: &str) -> Option<super::attachments::Wanted> {
    let key = item_key(item)?;
    let url = attachment_url(item)?.to_owned();
    Some(super::attachments::Wanted {
        file_name: attachment_file_name(Some(&url), &key),
        form: attachment_form(item, &key, source),
        key,
        url,
    })
}

/// Renders every post and page body (with `rewriter` applied to its HTML),
/// then imports `records` in one transaction.
///
/// Rendering runs before the transaction opens: it is CPU-bound, and inside
/// the transaction it would hold SQLite's write lock (every other writer and
/// every login waiting). So the whole file's records are held in memory for
/// the length of the import.
fn import_records(
    conn: &mut DbConnection,
    records: Vec<Record>,
    options: Options,
    summary: Summary,
    media: &Media<'_>,
    rewriter: &Rewriter,
    progress: &mut dyn super::Progress,
) -> Result<Summary, ImportError> {
    let dry_run = options.dry_run;
    // SQLite: a page cache big enough that a long import transaction does
    // not spill and rewrite the same index pages over and over (the default
    // is 2 MiB); set back to the default after.
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    if sqlite {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!("PRAGMA cache_size = -{IMPORT_SQLITE_CACHE_KIB}"))?;
    }
    // SQLite, when nothing else has the file open: a rollback journal for
    // the import's one transaction, so the pages are written once rather
    // than to the WAL and again by its checkpoint (`db::sqlite_leave_wal`).
    let left_wal = !dry_run && crate::db::sqlite_leave_wal(conn)?;
    if left_wal {
        tracing::info!("import: writing with a rollback journal (no other connection has the database open)");
    } else if sqlite && !dry_run {
        tracing::info!("import: writing through the WAL (another connection has the database open)");
    }
    let result = std::thread::scope(|scope| {
        let records_len = records.len() as u64;
        let rendered = render_ahead(scope, records, rewriter);
        conn.transaction::<Summary, ImportError, _>(|conn| {
            let fts = begin_search_deferral(conn)?;
            let mut state = Importer::new(conn, options);
            state.summary = summary;
            state.media = media;
            progress.phase("writing", records_len);
            for item in rendered {
                let (record, body) = item?;
                state.record(record, body)?;
                progress.advance(1);
            }
            state.finish()?;
            progress.finish();
            let summary = std::mem::take(&mut state.summary);
            if dry_run {
                return Err(ImportError::DryRun(Box::new(summary)));
            }
            end_search_deferral(conn, fts)?;
            Ok(summary)
        })
    });
    if left_wal {
        if let Err(e) = crate::db::sqlite_back_to_wal(conn) {
            tracing::warn!(error = %e, "the database is left in rollback-journal mode; the next connection sets WAL mode");
        }
    }
    if sqlite {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("PRAGMA cache_size = -2000")?;
    }
    match result {
        Err(ImportError::DryRun(mut summary)) => {
            summary.dry_run = true;
            Ok(*summary)
        }
        Ok(summary) => {
            analyze_after_import(conn)?;
            Ok(summary)
        }
        other => other,
    }
}

/// On PostgreSQL, leaves the search vectors of the articles this
/// transaction writes for `search_index` jobs after the commit (migration
/// `2026-12-03-000220_deferred_search`): English stemming of every body was
/// 83 s of a 131-s import of 100,000 articles, done on one core inside the
/// import's transaction; the jobs spread it over the runners' connections
/// while the imported articles are already listed. Until then an imported
/// article is not found by `q=`.
///
/// On SQLite, FTS5 stays in the transaction, but the new articles are
/// indexed in one statement at its end rather than one trigger at a time
/// (`articles::repo::defer_fts`, undone by [`end_search_deferral`]).
fn begin_search_deferral(conn: &mut DbConnection) -> Result<Option<crate::articles::repo::FtsDeferral>, ImportError> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Postgresql(_) => {
            conn.batch_execute("SET LOCAL broadsheet.defer_search = 'on'")?;
            Ok(None)
        }
        DbConnection::Sqlite(_) => Ok(crate::articles::repo::defer_fts(conn)?),
    }
}

/// Ends [`begin_search_deferral`] in the import's transaction, so that the
/// work exists exactly when the import commits: on PostgreSQL, queues the
/// `search_index` chains when the import left any article unindexed; on
/// SQLite, indexes the new articles and puts the FTS5 triggers back.
fn end_search_deferral(
    conn: &mut DbConnection,
    fts: Option<crate::articles::repo::FtsDeferral>,
) -> Result<(), ImportError> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        if fts.is_some() {
            tracing::info!("import: indexing the new articles for search");
        }
        crate::articles::repo::index_deferred_fts(conn, fts)?;
    }
    if crate::articles::repo::pending_search(conn)? > 0 {
        for _ in 0..crate::jobs::search_index::CHAINS {
            crate::jobs::enqueue(conn, &crate::jobs::search_index::job())?;
        }
    }
    Ok(())
}

/// The SQLite page cache of an import's connection, in KiB.
const IMPORT_SQLITE_CACHE_KIB: u32 = 256 * 1024;

/// Runs `f` with custom plans on PostgreSQL.
///
/// PostgreSQL plans a prepared statement for its parameters five times,
/// then may keep a generic plan. Planned while `articles` was still small,
/// the batch lookups of existing import keys and slugs kept a sequential scan
/// as the table grew: at 100,000 posts that was most of the import's
/// database time (profiled 2026-12-02). Custom plans follow the growth. Only
/// around these lookups: for the whole transaction, every foreign-key check
/// of every inserted row was planned again too (11.5% of the backend's CPU,
/// profiled 2026-12-03).
fn custom_plans<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    use diesel::connection::SimpleConnection;
    if matches!(conn, DbConnection::Sqlite(_)) {
        return f(conn);
    }
    conn.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
    let out = f(conn)?;
    conn.batch_execute("SET LOCAL plan_cache_mode = auto")?;
    Ok(out)
}

/// How many records a render worker takes at a time.
const RENDER_CHUNK: usize = 64;

/// Rewrites and renders every post and page body on worker threads (one
/// per core, at most 8), while the caller writes: the writer takes the
/// records, in file order, as their chunks come back. On two cores the
/// render (CPU in this process) and the writes (mostly the database's CPU on
/// PostgreSQL, this thread's on SQLite) overlap instead of adding up: a
/// 100,000-post SQLite import took 81.8 s rendered first and 71.0 s rendered
/// ahead, on one 2-core machine (2026-12-03). The workers stop at their next
/// chunk once the returned iterator is dropped (the import failed), and the
/// scope joins them.
///
/// Rendering holds no database connection, but it now runs while the
/// import's transaction is open; on SQLite the write lock is held for
/// max(render, write) rather than for the write alone, which is shorter than
/// the old render-then-write in all.
fn render_ahead<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    records: Vec<Record>,
    rewriter: &'env Rewriter,
) -> impl Iterator<Item = Result<(Record, Option<PostBody>), ImportError>> + 'scope {
    let one = move |mut record: Record| {
        let body = match &mut record {
            Record::Item(item) if matches!(item.get("wp:post_type").unwrap_or("post"), "post" | "page") => {
                if let Some(html) = item.fields.get_mut("content:encoded") {
                    *html = rewriter.rewrite(html);
                }
                Some(PostBody::render(item))
            }
            _ => None,
        };
        (record, body)
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let mut chunks = Vec::with_capacity(records.len().div_ceil(RENDER_CHUNK));
    let mut rest = records.into_iter();
    loop {
        let chunk: Vec<Record> = rest.by_ref().take(RENDER_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let count = chunks.len();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(chunks.into_iter().enumerate()));
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Vec<(Record, Option<PostBody>)>)>(threads * 4);
    for _ in 0..threads {
        let (queue, send) = (queue.clone(), send.clone());
        scope.spawn(move || loop {
            let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
            let Some((at, chunk)) = next else { break };
            if send.send((at, chunk.into_iter().map(one).collect())).is_err() {
                break;
            }
        });
    }
    drop(send);
    // Chunks finish out of order; hand them on in file order.
    let mut waiting = std::collections::BTreeMap::new();
    (0..count).flat_map(move |at| {
        while !waiting.contains_key(&at) {
            match receive.recv() {
                Ok((i, done)) => {
                    waiting.insert(i, done);
                }
                // Every worker gone with chunks missing: one panicked. The
                // import fails (nothing is committed) and the scope raises
                // the panic again when it joins that worker.
                Err(_) => return vec![Err(ImportError::Render("a render worker panicked"))],
            }
        }
        waiting.remove(&at).unwrap_or_default().into_iter().map(Ok).collect()
    })
}

/// PostgreSQL: `VACUUM (ANALYZE)` the tables an import fills, once it
/// committed. A bulk load leaves the planner with no statistics (or those of
/// an empty table) until autovacuum gets round to it, and the list queries'
/// plans (which index drives a filtered list) depend on them. The vacuum sets
/// the visibility map, without which every "index-only" scan of a list still
/// reads each row's heap page ("Heap Fetches: 1399" for one tag page at
/// 100,000 articles; 7.4 ms before, 2.2 ms after, with the tag filter of
/// `articles::repo`). Both cost 1.7 s at 100,000 articles (measured
/// 2026-12-02). SQLite plans without statistics (the list queries pin their
/// index, see `articles::repo`).
fn analyze_after_import(conn: &mut DbConnection) -> Result<(), ImportError> {
    use diesel::RunQueryDsl;
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query(
            "VACUUM (ANALYZE) articles, article_imports, article_authors, article_categories, article_tags, \
             authors, categories, tags, comments, media",
        )
        .execute(conn)?;
    }
    Ok(())
}

/// A post's body: the WordPress source with paragraphs restored (kept as the
/// HTML source; what is served is that source sanitized), rendered; and its
/// excerpt and comment bodies sanitized, all within the renderer's budget.
struct PostBody {
    source: String,
    rendered: Result<crate::articles::render::Rendered, String>,
    /// The sanitized excerpt (`None` when absent or blank).
    excerpt: Option<Result<String, String>>,
    /// Each comment's sanitized body, in file order.
    comments: Vec<Result<String, String>>,
}

impl PostBody {
    fn render(item: &WxrItem) -> Self {
        let source = autop(item.fields.get("content:encoded").map(String::as_str).unwrap_or(""));
        let rendered = crate::articles::render::render("html", &source);
        let excerpt = item.get("excerpt:encoded").map(|e| bounded_sanitize(&autop(e)));
        let comments = item
            .comments
            .iter()
            .map(|cm| bounded_sanitize(&autop(cm.fields.get("comment_content").map(String::as_str).unwrap_or(""))))
            .collect();
        Self { source, rendered, excerpt, comments }
    }
}

/// [`sanitize`] within the renderer's limits (size, depth, elements): the
/// error says why a fragment was refused.
fn bounded_sanitize(html: &str) -> Result<String, String> {
    use crate::articles::render::{check_html, MAX_SOURCE_BYTES};
    if html.len() > MAX_SOURCE_BYTES {
        return Err(format!("is over {MAX_SOURCE_BYTES} bytes"));
    }
    check_html(html)?;
    Ok(sanitize(html))
}

struct Importer<'c> {
    conn: &'c mut DbConnection,
    /// Attachments hosted here and those this run's downloads created.
    media: &'c Media<'c>,
    options: Options,
    /// Whether the file declared any `wp:author`; when none, authors come
    /// from `dc:creator` without a warning (hand-made exports).
    declared_authors: bool,
    source: String,
    summary: Summary,
    /// `wp:author_login` → author id.
    authors: HashMap<String, i64>,
    /// category nicename → id.
    categories: HashMap<String, i64>,
    /// tag slug → id.
    tags: HashMap<String, i64>,
    /// (category id, its nicename, parent nicename), linked at the end.
    category_parents: Vec<(i64, String, String)>,
    /// attachment `wp:post_id` → media id.
    attachments: HashMap<String, i64>,
    /// (article id, article slug, `_thumbnail_id`), linked at the end.
    thumbnails: Vec<(i64, String, String)>,
    /// page key → page id.
    pages: HashMap<String, i64>,
    /// (page id, page key, parent's `wp:post_id`), linked at the end.
    page_parents: Vec<(i64, String, String)>,
    /// Posts read but not yet written, in file order (see [`Importer::flush_posts`]).
    pending: Vec<PendingPost>,
    /// The keys of `pending`.
    pending_keys: std::collections::HashSet<String>,
    /// Whether articles from this source were in the database when the first
    /// batch was written (`None` until then).
    source_known: Option<bool>,
    /// The keys of the posts this import wrote.
    written_keys: std::collections::HashSet<String>,
    /// Articles inserted by batch and not yet in `article_tallies` (see
    /// [`Importer::tally`]).
    untallied: Vec<i64>,
}

/// How many posts are written together: one multi-row `INSERT` per table on
/// PostgreSQL. 500 rows of 20 columns stay far below its 65,535 bind limit.
const POST_BATCH: usize = 500;

/// A post converted into its article form, waiting for its batch.
struct PendingPost {
    wp_id: String,
    base_slug: String,
    form: ArticleForm,
    hash: String,
    /// No usable date in the export (a re-import keeps the stored times).
    dateless: bool,
    /// Bylines, categories, tags.
    relations: (Vec<i64>, Vec<i64>, Vec<i64>),
    thumbnail: Option<String>,
    comments: Vec<wxr::WxrComment>,
    comment_bodies: Vec<Result<String, String>>,
}

/// Parses a WXR date (`YYYY-MM-DD HH:MM:SS`); WordPress writes
/// `0000-00-00 00:00:00` for "never", which is `None`.
fn wp_date(raw: Option<&str>) -> Option<NaiveDateTime> {
    let raw = raw?.trim();
    if raw.starts_with("0000") {
        return None;
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").ok().filter(plausible)
}

/// Years 1900–9999: anything else is a typo in the export (the theme unit
/// test data has a `pubDate` in year 20081), and RFC 3339 cannot write it.
fn plausible(t: &NaiveDateTime) -> bool {
    (1900..=9999).contains(&chrono::Datelike::year(t))
}

/// The part of an email address before `@`, so an address used as a login or
/// display name is never published.
fn hide_email(name: &str) -> String {
    match name.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => local.to_owned(),
        _ => name.to_owned(),
    }
}

/// The UTC time of an item from its `*_gmt` field, else its local field (the
/// site's offset is unknown, so it is taken as UTC), else `pubDate` (RFC 2822).
fn item_time(item: &WxrItem, gmt: &str, local: &str) -> Option<NaiveDateTime> {
    wp_date(item.get(gmt)).or_else(|| wp_date(item.get(local))).or_else(|| {
        item.get("pubDate").and_then(|d| DateTime::parse_from_rfc2822(d).ok()).map(|d| d.naive_utc()).filter(plausible)
    })
}

/// The key an item is imported under: its `wp:post_id`; else, in hand-made
/// exports without ids, `guid:` and its guid; else `link:` and its link.
fn item_key(item: &WxrItem) -> Option<String> {
    item.get("wp:post_id")
        .map(str::to_owned)
        .or_else(|| item.get("guid").map(|g| format!("guid:{g}")))
        .or_else(|| item.get("link").map(|l| format!("link:{l}")))
}

/// A SHA-256 (hex) of an item as exported (its fields, terms and meta, in a
/// fixed order; comments aside, which are imported on their own): equal
/// hashes mean the export did not change the item.
fn item_hash(item: &WxrItem) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let fields: std::collections::BTreeMap<_, _> = item.fields.iter().collect();
    for (k, v) in fields {
        for part in [k.as_bytes(), b"\0", v.as_bytes(), b"\0"] {
            h.update(part);
        }
    }
    for t in &item.terms {
        for part in
            [b"t\0".as_slice(), t.domain.as_bytes(), b"\0", t.nicename.as_bytes(), b"\0", t.name.as_bytes(), b"\0"]
        {
            h.update(part);
        }
    }
    for (k, v) in &item.meta {
        for part in [b"m\0".as_slice(), k.as_bytes(), b"\0", v.as_bytes(), b"\0"] {
            h.update(part);
        }
    }
    hex::encode(h.finalize())
}

/// Strips the stray characters seen in hand-edited exports (`>login`, `login>`).
fn clean_login(raw: &str) -> String {
    raw.trim().trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '@')).to_owned()
}

impl<'c> Importer<'c> {
    fn new(conn: &'c mut DbConnection, options: Options) -> Self {
        static HOSTED: std::sync::LazyLock<HashMap<String, super::attachments::Hosted>> =
            std::sync::LazyLock::new(HashMap::new);
        static FRESH: std::sync::LazyLock<std::collections::HashSet<String>> =
            std::sync::LazyLock::new(std::collections::HashSet::new);
        static NONE: std::sync::LazyLock<Media<'static>> =
            std::sync::LazyLock::new(|| Media { hosted: &HOSTED, fresh: &FRESH });
        Self {
            conn,
            media: &NONE,
            options,
            declared_authors: false,
            source: String::new(),
            summary: Summary::default(),
            authors: HashMap::new(),
            categories: HashMap::new(),
            tags: HashMap::new(),
            category_parents: Vec::new(),
            attachments: HashMap::new(),
            thumbnails: Vec::new(),
            pages: HashMap::new(),
            page_parents: Vec::new(),
            pending: Vec::new(),
            pending_keys: std::collections::HashSet::new(),
            source_known: None,
            written_keys: std::collections::HashSet::new(),
            untallied: Vec::new(),
        }
    }

    fn record(&mut self, record: Record, body: Option<PostBody>) -> Result<(), ImportError> {
        match record {
            Record::Channel(channel) => {
                self.source = channel
                    .base_blog_url
                    .or(channel.base_site_url)
                    .or(channel.link)
                    .unwrap_or_else(|| "wordpress".into());
                Ok(())
            }
            Record::Author(a) => {
                self.declared_authors = true;
                self.author(a)
            }
            Record::Category(t) => self.category(t),
            Record::Tag(t) => self.tag(t),
            Record::Term(t) => match t.taxonomy.as_str() {
                // WordPress exports a category both ways; like its importer
                // (`term_exists`), the second is not imported again.
                "category" | "post_tag" if self.term_seen(&t) => {
                    self.summary.skip("wp:term entries repeating a wp:category or wp:tag");
                    Ok(())
                }
                "category" => self.category(t),
                "post_tag" => self.tag(t),
                // Menus, post formats and custom taxonomies have no home here.
                other => {
                    let other = if other.is_empty() { "no" } else { other };
                    self.summary.skip(format!("wp:term entries of taxonomy `{other}`"));
                    Ok(())
                }
            },
            Record::Item(i) => self.item(*i, body),
        }
    }

    /// Runs `f` in a savepoint; a database error skips the entry with a warning.
    fn guarded<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut DbConnection, &mut Summary) -> diesel::QueryResult<T>,
    ) -> Option<T> {
        let summary = &mut self.summary;
        match self.conn.transaction(|c| f(c, summary)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.summary.warn(format!("{what}: skipped after a database error: {e}"));
                self.summary.skip("bad entries");
                None
            }
        }
    }

    fn author(&mut self, a: WxrAuthor) -> Result<(), ImportError> {
        let login = clean_login(&a.login);
        if login.is_empty() {
            self.summary.warn("an author without wp:author_login was skipped");
            self.summary.skip("bad entries");
            return Ok(());
        }
        let full_name =
            [a.first_name.as_deref(), a.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let display_name = hide_email(
            &a.display_name
                .clone()
                .or(Some(full_name).filter(|n| !n.trim().is_empty()))
                .unwrap_or_else(|| login.clone()),
        );
        if let Some(id) = self.save_author(&login, &display_name, a.email.clone()) {
            self.authors.insert(login, id);
        }
        Ok(())
    }

    fn save_author(&mut self, login: &str, display_name: &str, email: Option<String>) -> Option<i64> {
        let source = self.source.clone();
        let (login, display_name) = (login.to_owned(), display_name.to_owned());
        self.guarded(&format!("author `{login}`"), move |c, summary| {
            let now = crate::db::now();
            let existing = crate::authors::repo::find_imported(c, &source, &login)?;
            let base =
                Some(slugs::slugify(&hide_email(&login))).filter(|s| !s.is_empty()).unwrap_or_else(|| "author".into());
            let slug = slugs::unique(&base, |s| crate::authors::repo::slug_taken(c, s, existing))?;
            let new = NewAuthor {
                slug,
                display_name,
                email,
                bio: None,
                website: None,
                import_source: Some(source.clone()),
                import_key: Some(login),
                created_at: now,
                updated_at: now,
            };
            let id = match existing {
                Some(id) => {
                    crate::authors::repo::update_imported(c, id, &new)?;
                    id
                }
                None => crate::authors::repo::insert(c, &new)?,
            };
            summary.saved("authors", existing.is_none());
            Ok(id)
        })
    }

    fn category(&mut self, t: WxrTerm) -> Result<(), ImportError> {
        let Some((key, slug)) = self.term_key("category", &t) else { return Ok(()) };
        let source = self.source.clone();
        let name = if t.name.is_empty() { t.slug.clone() } else { t.name.clone() };
        let description = t.description.clone();
        let id = self.guarded(&format!("category `{key}`"), |c, summary| {
            let existing = crate::taxonomy::repo::find_imported(c, crate::taxonomy::Kind::Category, &source, &key)?;
            let slug = slugs::unique(&slug, |s| {
                crate::taxonomy::repo::slug_taken(c, crate::taxonomy::Kind::Category, s, existing)
            })?;
            let (id, created) = crate::taxonomy::repo::upsert_imported(
                c,
                crate::taxonomy::Kind::Category,
                &source,
                &key,
                &slug,
                &name,
                description.as_deref(),
            )?;
            summary.saved("categories", created);
            Ok(id)
        });
        if let Some(id) = id {
            if let Some(parent) = t.parent.filter(|p| !p.trim().is_empty()) {
                self.category_parents.push((id, key.clone(), parent.trim().to_owned()));
            }
            self.categories.insert(key, id);
        }
        Ok(())
    }

    fn tag(&mut self, t: WxrTerm) -> Result<(), ImportError> {
        let Some((key, slug)) = self.term_key("tag", &t) else { return Ok(()) };
        let source = self.source.clone();
        let name = if t.name.is_empty() { t.slug.clone() } else { t.name.clone() };
        let description = t.description.clone();
        let id = self.guarded(&format!("tag `{key}`"), |c, summary| {
            let existing = crate::taxonomy::repo::find_imported(c, crate::taxonomy::Kind::Tag, &source, &key)?;
            let slug = slugs::unique(&slug, |s| {
                crate::taxonomy::repo::slug_taken(c, crate::taxonomy::Kind::Tag, s, existing)
            })?;
            let (id, created) = crate::taxonomy::repo::upsert_imported(
                c,
                crate::taxonomy::Kind::Tag,
                &source,
                &key,
                &slug,
                &name,
                description.as_deref(),
            )?;
            summary.saved("tags", created);
            Ok(id)
        });
        if let Some(id) = id {
            self.tags.insert(key, id);
        }
        Ok(())
    }

    /// Whether a `wp:term` of taxonomy `category` or `post_tag` was already
    /// imported in this run (as a `wp:category` or `wp:tag`).
    fn term_seen(&self, t: &WxrTerm) -> bool {
        let key = if t.slug.trim().is_empty() { t.name.trim() } else { t.slug.trim() };
        match t.taxonomy.as_str() {
            "category" => self.categories.contains_key(key),
            _ => self.tags.contains_key(key),
        }
    }

    /// The import key (the WordPress slug as written) and our slug for a term;
    /// `None` (with a warning) when the term has neither slug nor name.
    fn term_key(&mut self, kind: &str, t: &WxrTerm) -> Option<(String, String)> {
        let key = if t.slug.trim().is_empty() { t.name.trim().to_owned() } else { t.slug.trim().to_owned() };
        let slug = slugs::slugify(&key);
        let slug = if slug.is_empty() { slugs::slugify(&t.name) } else { slug };
        if key.is_empty() || slug.is_empty() {
            self.summary.warn(format!("a {kind} without slug or name was skipped"));
            self.summary.skip("bad entries");
            return None;
        }
        Some((key, slug))
    }

    fn item(&mut self, item: WxrItem, body: Option<PostBody>) -> Result<(), ImportError> {
        let post_type = item.get("wp:post_type").unwrap_or("post").to_owned();
        match post_type.as_str() {
            "post" => {
                // Rendered in `import`, before the transaction; this is only a fallback.
                let body = body.unwrap_or_else(|| PostBody::render(&item));
                self.post(item, body)?
            }
            "attachment" => self.attachment(item),
            "page" => {
                let body = body.unwrap_or_else(|| PostBody::render(&item));
                self.page(item, body)
            }
            "nav_menu_item" => self.summary.skip("menu items"),
            other => self.summary.skip(format!("items of type `{other}`")),
        }
        Ok(())
    }

    fn attachment(&mut self, item: WxrItem) {
        let Some(wp_id) = item_key(&item) else {
            self.summary.warn("an attachment without wp:post_id, guid or link was skipped");
            self.summary.skip("bad entries");
            return;
        };
        let mut form = attachment_form(&item, &wp_id, &self.source);
        if let Some(h) = self.media.hosted.get(&wp_id) {
            form.mime_type = h.mime_type.clone();
            form.kind = h.kind.clone();
        }
        let fresh = self.media.fresh.contains(&wp_id);
        if let Some(id) = self.guarded(&format!("attachment {wp_id}"), |c, summary| {
            let (id, created) = crate::media::repo::upsert_imported(c, &form)?;
            summary.saved("media", created || fresh);
            Ok(id)
        }) {
            self.attachments.insert(wp_id, id);
        }
    }

    /// The author for `dc:creator`, repairing or creating one when it matches
    /// no `wp:author`: a post is never dropped for its author.
    fn resolve_author(&mut self, creator: Option<&str>, wp_id: &str) -> Option<i64> {
        let raw = creator.unwrap_or("").to_owned();
        if let Some(id) = self.authors.get(raw.trim()) {
            return Some(*id);
        }
        let cleaned = clean_login(&raw);
        if let Some(id) = self.authors.get(&cleaned) {
            self.summary.warn(format!("post {wp_id}: dc:creator `{raw}` is malformed; attributed to `{cleaned}`"));
            return Some(*id);
        }
        let (login, name) = if cleaned.is_empty() {
            ("unknown".to_owned(), "Unknown author".to_owned())
        } else {
            (cleaned.clone(), hide_email(&cleaned))
        };
        if self.declared_authors {
            self.summary
                .warn(format!("post {wp_id}: dc:creator `{raw}` matches no wp:author; attributed to author `{login}`"));
        }
        let id = self.save_author(&login, &name, None)?;
        self.authors.insert(login, id);
        Some(id)
    }

    fn resolve_terms(&mut self, item: &WxrItem, wp_id: &str) -> (Vec<i64>, Vec<i64>) {
        let mut cats = Vec::new();
        let mut tags = Vec::new();
        for a in &item.terms {
            // A plain RSS `<category>` (no nicename) is keyed by its name's slug,
            // so it meets the declared category of the same name.
            let key =
                if a.nicename.trim().is_empty() { slugs::slugify(a.name.trim()) } else { a.nicename.trim().to_owned() };
            let key = key.as_str();
            let t = WxrTerm { slug: key.to_owned(), name: a.name.trim().to_owned(), ..WxrTerm::default() };
            match a.domain.as_str() {
                // No domain: a plain RSS category, which WordPress files as a category.
                "category" | "" => {
                    if !self.categories.contains_key(key) && !key.is_empty() {
                        if !a.domain.is_empty() {
                            self.summary.warn(format!("post {wp_id}: category `{key}` was not declared; created it"));
                        }
                        let _ = self.category(t);
                    }
                    cats.extend(self.categories.get(key));
                }
                "post_tag" => {
                    if !self.tags.contains_key(key) && !key.is_empty() {
                        self.summary.warn(format!("post {wp_id}: tag `{key}` was not declared; created it"));
                        let _ = self.tag(t);
                    }
                    tags.extend(self.tags.get(key));
                }
                _ => {}
            }
        }
        (cats, tags)
    }

    /// Converts a `post` item and queues it for [`Self::flush_posts`].
    fn post(&mut self, item: WxrItem, body: PostBody) -> Result<(), ImportError> {
        let Some(wp_id) = item_key(&item) else {
            self.summary.warn("a post without wp:post_id, guid or link was skipped");
            self.summary.skip("bad entries");
            return Ok(());
        };
        let wp_status = item.get("wp:status").unwrap_or("draft");
        let article_status = match wp_status {
            "publish" => status::PUBLISHED,
            "future" => status::SCHEDULED,
            "draft" | "pending" | "private" | "auto-draft" => status::DRAFT,
            "trash" => {
                self.summary.skip("trashed posts");
                return Ok(());
            }
            other => {
                self.summary.warn(format!("post {wp_id}: unknown status `{other}`; imported as a draft"));
                status::DRAFT
            }
        };
        let created = item_time(&item, "wp:post_date_gmt", "wp:post_date");
        let dateless = created.is_none();
        if dateless {
            self.summary.warn(format!("post {wp_id}: no usable date; stamped with the import time"));
        }
        let published_at = match article_status {
            status::PUBLISHED | status::SCHEDULED => created.or_else(|| Some(crate::db::now())),
            _ => None,
        };
        let created = created.unwrap_or_else(crate::db::now);
        let updated = item_time(&item, "wp:post_modified_gmt", "wp:post_modified").unwrap_or(created).max(created);
        let title = crate::text::plain_title(item.get("title").unwrap_or(""));
        let author = self.resolve_author(item.get("dc:creator"), &wp_id);
        let (cats, tags) = self.resolve_terms(&item, &wp_id);
        let thumbnail = item.meta("_thumbnail_id").map(str::to_owned);
        let base_slug = [item.get("wp:post_name").map(slugs::slugify), Some(slugs::slugify(&title))]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| match item.get("wp:post_id") {
                Some(id) => format!("post-{id}"),
                None => "post".to_owned(),
            });
        let PostBody { source: body_source, rendered, excerpt, comments: comment_bodies } = body;
        let body = match rendered {
            Ok(b) => b,
            Err(m) => {
                self.summary.warn(format!("post {wp_id}: skipped: its body {m}"));
                self.summary.skip("posts over the body limits");
                return Ok(());
            }
        };
        let excerpt = match excerpt {
            Some(Err(m)) => {
                self.summary.warn(format!("post {wp_id}: its excerpt was dropped: it {m}"));
                None
            }
            Some(Ok(e)) => Some(crate::articles::render::plain_text(&e)).filter(|e| !e.trim().is_empty()),
            None => None,
        };
        let form = ArticleForm {
            slug: base_slug.clone(),
            title,
            excerpt,
            body_html: body.html,
            body_format: "html".to_owned(),
            body_source: body_source.clone(),
            body_text: body.text,
            word_count: body.word_count,
            reading_time_minutes: body.reading_time_minutes,
            status: article_status.to_owned(),
            published_at,
            featured_media_id: None,
            comment_status: if item.get("wp:comment_status") == Some("open") { "open" } else { "closed" }.to_owned(),
            is_sticky: item.get("wp:is_sticky") == Some("1"),
            password_protected: item.get("wp:post_password").is_some(),
            password_hash: crate::articles::service::hash_imported_password(item.fields.get("wp:post_password")),
            import_source: Some(self.source.clone()),
            import_key: Some(wp_id.clone()),
            created_at: created,
            updated_at: updated,
        };
        if self.pending_keys.contains(&wp_id) {
            // The same post twice in one file: the second one updates the first.
            self.flush_posts()?;
        }
        self.pending_keys.insert(wp_id.clone());
        self.pending.push(PendingPost {
            hash: item_hash(&item),
            wp_id,
            base_slug,
            form,
            dateless,
            relations: (author.into_iter().collect(), cats, tags),
            thumbnail,
            comments: item.comments,
            comment_bodies,
        });
        if self.pending.len() >= POST_BATCH {
            self.flush_posts()?;
        }
        Ok(())
    }

    /// Writes the queued posts. The new ones whose key and slug are free
    /// (looked up for the whole batch in two queries) go in together, in one
    /// savepoint ([`crate::articles::repo::insert_imported_batch`]); the rest
    /// (re-imports, taken slugs), and the whole batch if its savepoint fails,
    /// are written one by one by [`Self::save_post`], in file order.
    fn flush_posts(&mut self) -> Result<(), ImportError> {
        use std::collections::HashSet;
        let pending = std::mem::take(&mut self.pending);
        self.pending_keys.clear();
        if pending.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = pending.iter().map(|p| p.wp_id.as_str()).collect();
        let slugs: Vec<&str> = pending.iter().map(|p| p.base_slug.as_str()).collect();
        let source = &self.source;
        let source_known = match self.source_known {
            Some(known) => known,
            None => *self.source_known.insert(crate::articles::repo::source_has_imports(self.conn, source)?),
        };
        // A first import of a source knows its keys: only those it wrote
        // itself exist. (On PostgreSQL the look-up read every article of the
        // source, once per batch, from a plan made while the table was
        // small: 3.4 s of a 100,000-post import, 2026-12-05.)
        let (existing, taken) = custom_plans(self.conn, |c| {
            let existing = match source_known {
                true => crate::articles::repo::imported_keys(c, source, &keys)?,
                false => keys.iter().filter(|k| self.written_keys.contains(**k)).map(|k| (*k).to_owned()).collect(),
            };
            Ok((existing, crate::articles::repo::taken_slugs(c, &slugs)?))
        })?;
        // A slug claimed by an earlier post of the batch (new or not) goes to
        // the earlier one, as when written one by one.
        let mut claimed: HashSet<&str> = HashSet::new();
        let fresh: Vec<bool> = pending
            .iter()
            .map(|p| {
                !existing.contains(&p.wp_id) && !taken.contains(&p.base_slug) && claimed.insert(p.base_slug.as_str())
            })
            .collect();
        let batch: Vec<(&ArticleForm, &str)> =
            pending.iter().zip(&fresh).filter(|(_, f)| **f).map(|(p, _)| (&p.form, p.hash.as_str())).collect();
        let relations: Vec<_> = pending
            .iter()
            .zip(&fresh)
            .filter(|(_, f)| **f)
            .map(|(p, _)| (p.form.published_at, &p.relations.0[..], &p.relations.1[..], &p.relations.2[..]))
            .collect();
        let ids = if batch.is_empty() {
            None
        } else {
            self.conn
                .transaction(|c| {
                    // Counted in `tally`; a failed savepoint undoes the setting too.
                    crate::articles::repo::defer_tallies(c, true)?;
                    let ids = crate::articles::repo::insert_imported_batch(c, &batch)?;
                    let rows: Vec<_> =
                        ids.iter().zip(&relations).map(|(id, (at, a, cs, ts))| (*id, *at, *a, *cs, *ts)).collect();
                    crate::articles::repo::insert_relations_batch(c, &rows)?;
                    crate::articles::repo::defer_tallies(c, false)?;
                    Ok::<_, diesel::result::Error>(ids)
                })
                .ok()
        };
        if let Some(ids) = &ids {
            self.untallied.extend(ids);
        }
        // One by one, a post may update an article of an earlier batch:
        // counted first, the triggers move it between tallies that hold it.
        if ids.is_none() || fresh.iter().any(|f| !f) {
            self.tally()?;
        }
        let mut ids = ids.map(Vec::into_iter);
        for (p, fresh) in pending.into_iter().zip(fresh) {
            match ids.as_mut().filter(|_| fresh).and_then(Iterator::next) {
                Some(id) => {
                    self.summary.saved("articles", true);
                    self.post_saved(id, p.form.slug, &p.wp_id, p.thumbnail, p.comments, p.comment_bodies);
                }
                None => self.save_post(p),
            }
        }
        Ok(())
    }

    /// Writes one post in its own savepoint: inserted, or updated when an
    /// earlier import wrote it (unless edited here), or left unchanged.
    fn save_post(&mut self, p: PendingPost) {
        let PendingPost { wp_id, base_slug, mut form, hash, dateless, relations, thumbnail, comments, comment_bodies } =
            p;
        let source = self.source.clone();
        let overwrite = self.options.overwrite;
        let saved = self.guarded(&format!("post {wp_id}"), |c, summary| {
            let existing = crate::articles::repo::find_imported_state(c, &source, &wp_id)?;
            let Some(existing) = existing else {
                form.slug = slugs::unique(&base_slug, |s| crate::articles::repo::slug_taken(c, s, None))?;
                if form.slug != base_slug {
                    summary.warn(format!("post {wp_id}: slug `{base_slug}` is taken; using `{}`", form.slug));
                }
                let id = crate::articles::repo::insert_imported(c, &form, &hash)?;
                crate::articles::repo::insert_relations(
                    c,
                    id,
                    form.published_at,
                    &relations.0,
                    &relations.1,
                    &relations.2,
                )?;
                summary.saved("articles", true);
                return Ok(Some((id, form.slug.clone())));
            };
            let id = existing.id;
            let edited = existing.edited_since_import();
            if edited && !overwrite {
                let slug: String = crate::articles::repo::find(c, id)?.slug;
                summary.conflict(format!(
                    "article `{slug}` (post {wp_id}) was edited in broadsheet since its last import; kept as it is \
                     (--overwrite replaces it)"
                ));
                return Ok(None);
            }
            if !edited && existing.import_hash.as_deref() == Some(hash.as_str()) {
                summary.unchanged("articles");
                let slug: String = crate::articles::repo::find(c, id)?.slug;
                return Ok(Some((id, slug)));
            }
            if dateless {
                // Re-importing must not move an undated post to the top of the list.
                let (created_at, updated_at, published) = crate::articles::repo::times_of(c, id)?;
                form.created_at = created_at;
                form.updated_at = updated_at;
                form.published_at = form.published_at.and(published);
            }
            // The row changes now: its time never goes back to the export's.
            form.updated_at = form.updated_at.max(existing.updated_at);
            // Linked again in `finish`; kept meanwhile so the revision shows no change.
            form.featured_media_id = existing.featured_media_id;
            form.slug = slugs::unique(&base_slug, |s| crate::articles::repo::slug_taken(c, s, Some(id)))?;
            if form.slug != base_slug {
                summary.warn(format!("post {wp_id}: slug `{base_slug}` is taken; using `{}`", form.slug));
            }
            let before = crate::articles::service::stored_state(c, id)?;
            if !crate::articles::repo::update_imported(c, id, existing.version, &form, &hash)? {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            crate::articles::repo::replace_relations(c, id, &relations.0, &relations.1, &relations.2)?;
            crate::articles::service::record_import_revision(c, id, &before)?;
            if edited {
                summary
                    .warn(format!("article `{}` (post {wp_id}): edits made in broadsheet were overwritten", form.slug));
            }
            summary.saved("articles", false);
            Ok(Some((id, form.slug.clone())))
        });
        let saved = saved.flatten();
        let Some((article_id, slug)) = saved else { return };
        self.post_saved(article_id, slug, &wp_id, thumbnail, comments, comment_bodies);
    }

    /// Adds the articles the batches inserted, and their links, to the list
    /// tallies, in one statement (see
    /// [`crate::articles::repo::tally_new_articles`]): counted batch by
    /// batch, each tally row was updated once per batch, which on PostgreSQL
    /// grows quadratically within one transaction.
    fn tally(&mut self) -> Result<(), diesel::result::Error> {
        if !self.untallied.is_empty() {
            crate::articles::repo::tally_new_articles(self.conn, &self.untallied)?;
            self.untallied.clear();
        }
        Ok(())
    }

    /// What follows a saved post: its featured image (linked in `finish`) and comments.
    fn post_saved(
        &mut self,
        article_id: i64,
        slug: String,
        wp_id: &str,
        thumbnail: Option<String>,
        comments: Vec<wxr::WxrComment>,
        comment_bodies: Vec<Result<String, String>>,
    ) {
        self.written_keys.insert(wp_id.to_owned());
        if let Some(thumb) = thumbnail {
            self.thumbnails.push((article_id, slug, thumb));
        }
        self.comments(article_id, wp_id, comments, comment_bodies);
    }

    /// Saves a `page` item as a page: slug, title, body, parent (linked in
    /// `finish`) and menu order. Re-imports follow the articles' rules: an
    /// unchanged item writes nothing, a page edited here is a conflict unless
    /// `--overwrite`, and every write bumps the page's version.
    fn page(&mut self, item: WxrItem, body: PostBody) {
        let Some(key) = item_key(&item) else {
            self.summary.warn("a page without wp:post_id, guid or link was skipped");
            self.summary.skip("bad entries");
            return;
        };
        let published = match item.get("wp:status").unwrap_or("draft") {
            "publish" => true,
            "trash" => {
                self.summary.skip("trashed pages");
                return;
            }
            _ => false,
        };
        let html = match body.rendered {
            Ok(r) => r.html,
            Err(m) => {
                self.summary.warn(format!("page {key}: skipped: its body {m}"));
                self.summary.skip("pages over the body limits");
                return;
            }
        };
        let title = item.get("title").unwrap_or("").to_owned();
        let base_slug = [item.get("wp:post_name").map(slugs::slugify), Some(slugs::slugify(&title))]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| "page".to_owned());
        let created = item_time(&item, "wp:post_date_gmt", "wp:post_date");
        let created = created.unwrap_or_else(crate::db::now);
        let updated = item_time(&item, "wp:post_modified_gmt", "wp:post_modified").unwrap_or(created).max(created);
        let menu_order = item.get("wp:menu_order").and_then(|o| o.parse::<i64>().ok()).unwrap_or(0).clamp(0, 1_000_000);
        let mut form = crate::pages::model::PageForm {
            slug: base_slug.clone(),
            title,
            body_source: body.source,
            body_html: html,
            status: if published { "published" } else { "draft" }.to_owned(),
            parent_id: None,
            menu_order: menu_order as i32,
            published_at: published.then_some(created),
            updated_at: updated,
        };
        let parent = item.get("wp:post_parent").filter(|p| *p != "0").map(str::to_owned);
        let (source, hash, overwrite) = (self.source.clone(), item_hash(&item), self.options.overwrite);
        let saved = self.guarded(&format!("page {key}"), |c, summary| {
            use crate::pages::repo;
            let Some((id, version, import_version, import_hash, updated_at)) = repo::find_imported(c, &source, &key)?
            else {
                form.slug = slugs::unique(&base_slug, |s| repo::slug_taken(c, s, None))?;
                let id = repo::insert_imported(c, &form, &source, &key, &hash, created)?;
                summary.saved("pages", true);
                return Ok((id, true));
            };
            let edited = import_version != Some(version);
            if edited && !overwrite {
                let slug = repo::find(c, id)?.slug;
                summary.conflict(format!(
                    "page `{slug}` (item {key}) was edited in broadsheet since its last import; kept as it is \
                     (--overwrite replaces it)"
                ));
                return Ok((id, false));
            }
            if !edited && import_hash.as_deref() == Some(hash.as_str()) {
                summary.unchanged("pages");
                return Ok((id, true));
            }
            form.updated_at = form.updated_at.max(updated_at);
            form.parent_id = repo::find(c, id)?.parent_id;
            form.slug = slugs::unique(&base_slug, |s| repo::slug_taken(c, s, Some(id)))?;
            if !repo::update_imported(c, id, version, &form, &hash)? {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            if edited {
                summary.warn(format!("page `{}` (item {key}): edits made in broadsheet were overwritten", form.slug));
            }
            summary.saved("pages", false);
            Ok((id, true))
        });
        // A conflicting page is still a parent for others, but is not written.
        if let Some((id, writable)) = saved {
            if let (Some(parent), true) = (parent, writable) {
                self.page_parents.push((id, key.clone(), parent));
            }
            self.pages.insert(key, id);
        }
    }

    /// Saves a post's comments; `bodies` are their sanitized bodies, in the
    /// same order (prepared before the transaction).
    fn comments(
        &mut self,
        article_id: i64,
        wp_post_id: &str,
        comments: Vec<wxr::WxrComment>,
        bodies: Vec<Result<String, String>>,
    ) {
        let mut ids: HashMap<String, i64> = HashMap::new();
        let mut parents: Vec<(i64, String, String)> = Vec::new();
        for (cm, body) in comments.into_iter().zip(bodies) {
            let Some(wp_id) = cm.get("comment_id").map(str::to_owned) else {
                self.summary.warn(format!("post {wp_post_id}: a comment without wp:comment_id was skipped"));
                self.summary.skip("bad entries");
                continue;
            };
            let status = match cm.get("comment_approved").unwrap_or("0") {
                "1" | "approve" | "approved" => comment_status::APPROVED,
                "0" | "hold" => comment_status::PENDING,
                "spam" => comment_status::SPAM,
                "trash" | "post-trashed" => comment_status::TRASH,
                other => {
                    self.summary.warn(format!("comment {wp_id}: unknown approval `{other}`; held for moderation"));
                    comment_status::PENDING
                }
            };
            let kind = match cm.get("comment_type").unwrap_or("comment") {
                "pingback" => comment_kind::PINGBACK,
                "trackback" => comment_kind::TRACKBACK,
                _ => comment_kind::COMMENT,
            };
            let body = match body {
                Ok(b) => b,
                Err(m) => {
                    self.summary.warn(format!("comment {wp_id}: skipped: its body {m}"));
                    self.summary.skip("comments over the body limits");
                    continue;
                }
            };
            let created = wp_date(cm.get("comment_date_gmt"))
                .or_else(|| wp_date(cm.get("comment_date")))
                .unwrap_or_else(crate::db::now);
            let form = CommentForm {
                article_id,
                author_name: hide_email(cm.get("comment_author").unwrap_or("Anonymous")),
                author_email: cm.get("comment_author_email").map(str::to_owned),
                // Only web links are kept: a `mailto:` URL would publish the address.
                author_url: cm
                    .get("comment_author_url")
                    .filter(|u| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
                    .map(str::to_owned),
                body,
                status: status.to_owned(),
                kind: kind.to_owned(),
                import_source: Some(self.source.clone()),
                import_key: Some(format!("comment:{wp_id}")),
                created_at: created,
            };
            if let Some(id) = self.guarded(&format!("comment {wp_id}"), |c, summary| {
                let (id, created) = crate::comments::repo::upsert_imported(c, &form)?;
                summary.saved("comments", created);
                Ok(id)
            }) {
                if let Some(parent) = cm.get("comment_parent").filter(|p| *p != "0") {
                    parents.push((id, wp_id.clone(), parent.to_owned()));
                }
                ids.insert(wp_id, id);
            }
        }
        for (id, wp_id, parent) in parents {
            let parent_id = ids.get(&parent).copied();
            if parent_id.is_none() {
                self.summary.warn(format!("comment {wp_id}: parent {parent} is not on the same post; made top-level"));
            }
            self.guarded(&format!("comment {wp_id}"), |c, _| crate::comments::repo::set_parent(c, id, parent_id));
        }
    }

    /// Links what can only be linked once everything is read: category parents
    /// and featured images.
    fn finish(&mut self) -> Result<(), ImportError> {
        self.flush_posts()?;
        self.tally()?;
        let mut parents: HashMap<i64, i64> = HashMap::new();
        for (id, key, parent) in std::mem::take(&mut self.category_parents) {
            let mut parent_id = self.categories.get(&parent).copied();
            if parent_id.is_none() {
                self.summary.warn(format!("category `{key}`: parent `{parent}` not found; made top-level"));
            }
            if let Some(p) = parent_id {
                // Walk up from the parent: reaching this category again would be a loop.
                let mut cursor = Some(p);
                let mut steps = 0;
                while let Some(c) = cursor {
                    if c == id || steps > 10_000 {
                        self.summary
                            .warn(format!("category `{key}`: parent `{parent}` would make a loop; made top-level"));
                        parent_id = None;
                        break;
                    }
                    cursor = parents.get(&c).copied();
                    steps += 1;
                }
            }
            if let Some(p) = parent_id {
                parents.insert(id, p);
            }
            self.guarded(&format!("category `{key}`"), |c, _| crate::taxonomy::repo::set_parent(c, id, parent_id));
        }
        let mut page_parents: HashMap<i64, i64> = HashMap::new();
        for (id, key, parent) in std::mem::take(&mut self.page_parents) {
            let mut parent_id = self.pages.get(&parent).copied();
            if parent_id.is_none() {
                self.summary.warn(format!("page {key}: parent {parent} is not a page in this file; made top-level"));
            }
            if let Some(p) = parent_id {
                let mut cursor = Some(p);
                let mut steps = 0;
                while let Some(at) = cursor {
                    if at == id || steps > 10_000 {
                        self.summary.warn(format!("page {key}: parent {parent} would make a loop; made top-level"));
                        parent_id = None;
                        break;
                    }
                    cursor = page_parents.get(&at).copied();
                    steps += 1;
                }
            }
            if let Some(p) = parent_id {
                page_parents.insert(id, p);
            }
            self.guarded(&format!("page {key}"), |c, _| crate::pages::repo::set_parent(c, id, parent_id));
        }
        for (article_id, slug, thumb) in std::mem::take(&mut self.thumbnails) {
            match self.attachments.get(&thumb).copied() {
                Some(media_id) => {
                    self.guarded(&format!("article `{slug}`"), |c, _| {
                        crate::articles::repo::set_featured_media(c, article_id, Some(media_id))
                    });
                }
                None => self
                    .summary
                    .warn(format!("article `{slug}`: featured image {thumb} is not an attachment in this file")),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_rendered_ahead_come_back_all_in_file_order() {
        // Arrange: more records than chunks times workers, posts and
        // attachments mixed, so chunks finish out of order.
        let records: Vec<Record> = (0..1000)
            .map(|i| {
                let mut item = WxrItem::default();
                item.fields.insert("wp:post_id".into(), i.to_string());
                let kind = if i % 3 == 0 { "attachment" } else { "post" };
                item.fields.insert("wp:post_type".into(), kind.into());
                item.fields.insert("content:encoded".into(), format!("<p>post {i}</p>"));
                Record::Item(Box::new(item))
            })
            .collect();
        let rewriter = Rewriter::default();

        // Act
        let out: Vec<(Record, Option<PostBody>)> = std::thread::scope(|scope| {
            render_ahead(scope, records, &rewriter).collect::<Result<_, _>>().expect("no worker panics")
        });

        // Assert
        assert_eq!(out.len(), 1000, "every record comes back once");
        for (i, (record, body)) in out.iter().enumerate() {
            let Record::Item(item) = record else { panic!("record {i} is not an item") };
            assert_eq!(item.get("wp:post_id"), Some(i.to_string().as_str()), "record {i} is out of order");
            assert_eq!(body.is_some(), i % 3 != 0, "record {i}: only posts and pages are rendered");
            if let Some(body) = body {
                assert!(body.source.contains(&format!("post {i}")), "record {i} has another record's body");
            }
        }
    }

    #[test]
    fn repairs_stray_characters_in_logins() {
        assert_eq!(clean_login(">themereviewteam"), "themereviewteam");
        assert_eq!(clean_login("themereviewteam> "), "themereviewteam");
        assert_eq!(clean_login("<>"), "");
    }

    #[test]
    fn zero_and_implausible_dates_mean_never() {
        assert_eq!(wp_date(Some("0000-00-00 00:00:00")), None);
        assert_eq!(wp_date(Some("20081-06-16 21:47:17")), None);
        assert!(wp_date(Some("2013-01-10 20:15:40")).is_some());
    }

    #[test]
    fn email_addresses_are_not_published_as_names() {
        assert_eq!(hide_email("jane@newsroom.example"), "jane");
        assert_eq!(hide_email("Jane Doe"), "Jane Doe");
        assert_eq!(hide_email("@handle"), "@handle");
    }
}
