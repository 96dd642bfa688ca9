//! The WordPress importer on the shared fixture and on hand-made WXR.

use crate::helpers::{backend_tests, fixture, import_file, import_str, Backend, TestApp, TestDb};
use broadsheet::db::schema::*;
use diesel::prelude::*;

backend_tests!(
    imports_the_fixture_with_mapped_statuses_and_links,
    reimporting_the_same_file_changes_no_counts,
    a_dry_run_writes_nothing,
    a_file_that_is_not_wxr_or_is_truncated_writes_nothing,
    one_bad_item_is_skipped_and_the_rest_imported,
    missing_and_duplicate_slugs_are_derived_and_suffixed,
    implausible_dates_loops_and_email_names_are_repaired,
    imported_articles_are_listed_at_once_and_searchable_after_the_search_index_jobs,
    reimported_repeated_and_protected_posts_are_searched_as_they_stand,
);

/// `(total, ids)` of an anonymous search for `q`.
async fn search(app: &TestApp, q: &str) -> (i64, usize) {
    let body = app.get_ok(&format!("/api/v1/articles?q={q}&per_page=100")).await;
    (body["meta"]["total"].as_i64().unwrap(), body["data"].as_array().unwrap().len())
}

fn queued_search_jobs(db: &TestDb) -> i64 {
    jobs::table
        .filter(jobs::kind.eq("search_index"))
        .filter(jobs::state.eq_any(["queued", "failed", "running"]))
        .count()
        .get_result(&mut *db.conn())
        .unwrap()
}

// On PostgreSQL the import leaves the search vectors to `search_index` jobs
// (English stemming was most of a large import's time); on SQLite FTS5 is
// filled in the import's transaction. 1,100 posts: more than two batches of
// 500, so the chains must continue themselves.
async fn imported_articles_are_listed_at_once_and_searchable_after_the_search_index_jobs(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut xml = WXR_HEAD.to_owned();
    for i in 0..1100 {
        let word = if i % 100 == 7 { "quetzalcoatl" } else { "ordinary" };
        xml.push_str(&format!(
            "<item><title>Post {i}</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[<p>An {word} story.</p>]]>\
             </content:encoded><wp:post_id>{i}</wp:post_id><wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt>\
             <wp:post_name>post-{i}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>\n"
        ));
    }
    xml.push_str("</channel></rss>");

    // Act: the import alone (not the test helper, which would index at once).
    broadsheet::import::wordpress::import(&mut app.db.conn(), xml.as_bytes(), false).expect("import succeeds");

    // Assert
    let listed = app.get_ok("/api/v1/articles?per_page=1").await["meta"]["total"].as_i64().unwrap();
    assert_eq!(listed, 1100, "every imported article is listed at once");
    let pending = broadsheet::articles::repo::pending_search(&mut app.db.conn()).unwrap();
    match backend {
        Backend::Postgres => {
            assert_eq!(pending, 1100, "the import computed search vectors");
            assert_eq!(search(&app, "quetzalcoatl").await, (0, 0), "found before the jobs ran");
            assert_eq!(queued_search_jobs(&app.db), 2, "one chain per core queued with the import");
        }
        Backend::Sqlite => {
            assert_eq!(pending, 0);
            assert_eq!(search(&app, "quetzalcoatl").await, (11, 11), "FTS5 is filled by the import");
            assert_eq!(queued_search_jobs(&app.db), 0, "SQLite queues no search jobs");
            // The import turns FTS5's merging off while it writes; it must be
            // back on (FTS5's default, 4) and the index whole after it.
            let mut conn = app.db.conn();
            let automerge: Vec<i32> = diesel::sql_query("SELECT v AS n FROM articles_fts_config WHERE k = 'automerge'")
                .load::<Count>(&mut *conn)
                .unwrap()
                .into_iter()
                .map(|c| c.n)
                .collect();
            assert_eq!(automerge, vec![4], "automerge left as the import set it");
            diesel::sql_query("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
                .execute(&mut *conn)
                .expect("the FTS5 index passes its integrity check");
        }
    }
    let ran = app.run_jobs().await;
    assert_eq!(broadsheet::articles::repo::pending_search(&mut app.db.conn()).unwrap(), 0, "left unindexed");
    assert_eq!(queued_search_jobs(&app.db), 0, "search jobs left in the queue");
    assert_eq!(search(&app, "quetzalcoatl").await, (11, 11), "the word's 11 posts, after the jobs");
    assert_eq!(search(&app, "ordinary").await.0, 1089, "stemmed and counted like every other article");
    if backend == Backend::Postgres {
        // 1,100 rows in batches of 500: 3 batches with rows, each chain ending
        // on a batch that found fewer than 500.
        assert!((3..=5).contains(&ran), "{ran} job attempts for 3 batches over 2 chains");
        let versions: Vec<i32> =
            articles::table.select(articles::version).distinct().load(&mut *app.db.conn()).unwrap();
        assert_eq!(versions, vec![1], "indexing changed no article's version");
    }
}

/// A published post whose body is the one word `word`, optionally
/// password-protected.
fn worded_post(wp_id: u32, word: &str, password: Option<&str>) -> String {
    let password = password.map(|p| format!("<wp:post_password>{p}</wp:post_password>")).unwrap_or_default();
    format!(
        "<item><title>Post {wp_id}</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[<p>A {word} story.</p>]]>\
         </content:encoded><wp:post_id>{wp_id}</wp:post_id><wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt>\
         <wp:post_name>post-{wp_id}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\
         {password}</item>\n"
    )
}

/// The SQLite article triggers' `CREATE` text, by name.
fn sqlite_triggers(db: &TestDb) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Trigger {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }
    diesel::sql_query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        .load::<Trigger>(&mut *db.conn())
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.sql))
        .collect()
}

// A SQLite import indexes the articles it inserts in one statement at its
// end, while the FTS5 triggers keep the older rows' index up to date
// (`articles::repo::defer_fts`). The cases that could corrupt or miss the
// index: an older article changed by a re-import, a post twice in one file
// (inserted, then updated in the same transaction), a protected post (its
// body is never indexed), and a dry run (the transaction rolls back with
// the replaced triggers in it). A truncated file is refused while it is
// read, before the transaction begins; it is here to show it leaves nothing.
// The search must answer the same on both backends once the jobs ran.
async fn reimported_repeated_and_protected_posts_are_searched_as_they_stand(backend: Backend) {
    // Arrange: two posts imported before.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let first =
        format!("{WXR_HEAD}{}{}</channel></rss>", worded_post(1, "zebracorn", None), worded_post(2, "pangolin", None));
    broadsheet::import::wordpress::import(&mut app.db.conn(), first.as_bytes(), false).expect("first import");
    let triggers_before = (backend == Backend::Sqlite).then(|| sqlite_triggers(&app.db));

    // Act: post 1 changed; post 3 twice, the second time with another word;
    // post 4 protected. Then a dry run and a truncated file, each with a
    // new word.
    let second = format!(
        "{WXR_HEAD}{}{}{}{}{}</channel></rss>",
        worded_post(1, "yakshaver", None),
        worded_post(2, "pangolin", None),
        worded_post(3, "wombatty", None),
        worded_post(3, "quokkafied", None),
        worded_post(4, "secretword", Some("hunter2")),
    );
    let summary =
        broadsheet::import::wordpress::import(&mut app.db.conn(), second.as_bytes(), false).expect("second import");
    let dry =
        format!("{WXR_HEAD}{}{}</channel></rss>", worded_post(5, "drywords", None), worded_post(1, "drychange", None));
    broadsheet::import::wordpress::import(&mut app.db.conn(), dry.as_bytes(), true).expect("dry run");
    let truncated = format!("{WXR_HEAD}{}{}", worded_post(6, "lostword", None), worded_post(1, "lostchange", None));
    broadsheet::import::wordpress::import(&mut app.db.conn(), truncated.as_bytes(), false)
        .expect_err("a truncated file fails");
    app.run_jobs().await;

    // Assert
    assert_eq!(summary.created.get("articles"), Some(&2), "posts 3 and 4 created: {summary:?}");
    let expected = [
        ("zebracorn", 0, "post 1's old word"),
        ("yakshaver", 1, "post 1's new word"),
        ("pangolin", 1, "the unchanged post"),
        ("wombatty", 0, "post 3's first version"),
        ("quokkafied", 1, "post 3's second version"),
        ("secretword", 0, "a protected body"),
        ("drywords", 0, "a dry run's new post"),
        ("drychange", 0, "a dry run's change"),
        ("lostword", 0, "a truncated file's new post"),
        ("lostchange", 0, "a truncated file's change"),
    ];
    for (word, total, what) in expected {
        assert_eq!(search(&app, word).await, (total, total as usize), "{what} (`{word}`)");
    }
    assert_eq!(app.get_ok("/api/v1/articles?per_page=1").await["meta"]["total"], 4, "four articles listed");
    if backend == Backend::Sqlite {
        assert_eq!(Some(sqlite_triggers(&app.db)), triggers_before, "the triggers differ from before the imports");
        let mut conn = app.db.conn();
        diesel::sql_query("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
            .execute(&mut *conn)
            .expect("the FTS5 index passes its integrity check");
        // What the index holds, term by term: each article's terms once,
        // no term deleted that was never indexed (FTS5 would keep a
        // negative count for it), nothing of the protected body.
        #[derive(QueryableByName, Debug, PartialEq)]
        struct Term {
            #[diesel(sql_type = diesel::sql_types::Text)]
            term: String,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            doc: i32,
        }
        diesel::sql_query("CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab('main', 'articles_fts', 'row')")
            .execute(&mut *conn)
            .unwrap();
        let terms =
            diesel::sql_query("SELECT term, doc FROM temp.fts_terms ORDER BY term").load::<Term>(&mut *conn).unwrap();
        // Porter-stemmed, as the index keeps them.
        let expected: Vec<Term> = [
            ("1", 1),
            ("2", 1),
            ("3", 1),
            ("4", 1),
            ("a", 3),
            ("pangolin", 1),
            ("post", 4),
            ("quokkafi", 1),
            ("stori", 3),
            ("yakshav", 1),
        ]
        .into_iter()
        .map(|(term, doc)| Term { term: term.into(), doc })
        .collect();
        assert_eq!(terms, expected, "the FTS5 index's terms and their article counts");
        // FTS5's averages record (`articles_fts_data`, id 1; SQLite varints):
        // the rows indexed and the tokens of each column, which bm25 ranks
        // with. An article indexed twice counts twice here, and nowhere else.
        #[derive(QueryableByName)]
        struct Block {
            #[diesel(sql_type = diesel::sql_types::Binary)]
            block: Vec<u8>,
        }
        let averages = diesel::sql_query("SELECT block FROM articles_fts_data WHERE id = 1")
            .get_result::<Block>(&mut *conn)
            .unwrap();
        let mut totals = Vec::new();
        let mut bytes = averages.block.iter();
        while let Some(&b) = bytes.next() {
            let (mut v, mut byte, mut n) = (u64::from(b & 0x7f), b, 1);
            while byte & 0x80 != 0 {
                byte = *bytes.next().expect("a whole varint");
                n += 1;
                v = if n == 9 { (v << 8) | u64::from(byte) } else { (v << 7) | u64::from(byte & 0x7f) };
                if n == 9 {
                    break;
                }
            }
            totals.push(v);
        }
        // 4 articles; titles "Post N" (2 tokens each); no excerpts; bodies
        // "A <word> story." (3 tokens), the protected one not indexed.
        assert_eq!(totals, vec![4, 8, 0, 9], "rows indexed and tokens per column");
    }
}

// Regressions found by a break-it session: a year-20081 pubDate served as an
// invalid RFC 3339 time, categories parenting each other, emails shown as
// names, and undated posts jumping to the top on every re-import.
async fn implausible_dates_loops_and_email_names_are_repaired(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let head = WXR_HEAD.replace(
        "<wp:author_display_name>Ed</wp:author_display_name>",
        "<wp:author_display_name>ed@newsroom.example</wp:author_display_name>",
    );
    let xml = format!(
        "{head}<wp:category><wp:category_nicename>a</wp:category_nicename><wp:category_parent>b</wp:category_parent><wp:cat_name>A</wp:cat_name></wp:category>\
         <wp:category><wp:category_nicename>b</wp:category_nicename><wp:category_parent>a</wp:category_parent><wp:cat_name>B</wp:cat_name></wp:category>\
         <item><title>Far future</title><dc:creator>ed</dc:creator><pubDate>Mon, 16 Jun 20081 21:47:17 +0000</pubDate>\
         <wp:post_id>9</wp:post_id><wp:post_date_gmt>99999-01-01 00:00:00</wp:post_date_gmt><wp:post_name>far</wp:post_name>\
         <wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\
         <wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>reader@example.com</wp:comment_author>\
         <wp:comment_author_url>mailto:reader@example.com</wp:comment_author_url><wp:comment_content>Hi</wp:comment_content>\
         <wp:comment_approved>1</wp:comment_approved></wp:comment></item></channel></rss>"
    );

    import_str(&mut db.conn(), &xml).expect("import succeeds");
    let first: (Option<chrono::NaiveDateTime>, chrono::NaiveDateTime) =
        articles::table.select((articles::published_at, articles::created_at)).first(&mut *db.conn()).unwrap();
    let summary = import_str(&mut db.conn(), &xml).expect("re-import succeeds");

    let c = &mut *db.conn();
    let again: (Option<chrono::NaiveDateTime>, chrono::NaiveDateTime) =
        articles::table.select((articles::published_at, articles::created_at)).first(c).unwrap();
    assert_eq!(first, again, "an undated post keeps its times on re-import");
    assert!(chrono::Datelike::year(&again.0.unwrap()) <= 9999);
    assert!(summary.warnings.iter().any(|w| w.contains("no usable date")), "{summary}");
    let parents: Vec<Option<i64>> =
        categories::table.order(categories::id).select(categories::parent_id).load(c).unwrap();
    assert!(parents.iter().any(Option::is_none), "one of the two loops is broken: {parents:?}");
    let name: String = authors::table.select(authors::display_name).first(c).unwrap();
    assert_eq!(name, "ed");
    let (who, url): (String, Option<String>) =
        comments::table.select((comments::author_name, comments::author_url)).first(c).unwrap();
    assert_eq!((who.as_str(), url), ("reader", None));
}

async fn imports_the_fixture_with_mapped_statuses_and_links(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };

    let summary = db.import_fixture();

    // Counted from the fixture: 58 posts (39 + 19 in CDATA), 37 attachments,
    // 21 pages (13 with a parent) and 70 menu items; 5 tags used by posts but never declared.
    assert_eq!(summary.created.get("articles"), Some(&58), "{summary}");
    assert_eq!(summary.created.get("media"), Some(&37), "{summary}");
    assert_eq!(summary.created.get("authors"), Some(&2), "{summary}");
    assert_eq!(summary.created.get("pages"), Some(&21), "{summary}");
    assert_eq!(summary.skipped.get("menu items"), Some(&70), "{summary}");
    assert!(summary.updated.is_empty(), "{summary}");
    let c = &mut *db.conn();
    let by_status: Vec<(String, i64)> = articles::table
        .group_by(articles::status)
        .select((articles::status, diesel::dsl::count_star()))
        .order(articles::status)
        .load(c)
        .unwrap();
    assert_eq!(by_status, vec![("draft".into(), 1), ("published".into(), 56), ("scheduled".into(), 1)]);
    // `future` keeps its GMT time: 2030-01-01 19:00:18 in the export.
    let scheduled_at: Option<chrono::NaiveDateTime> =
        articles::table.filter(articles::slug.eq("scheduled")).select(articles::published_at).first(c).unwrap();
    assert_eq!(scheduled_at.unwrap().to_string(), "2030-01-01 19:00:18");
    // The post whose dc:creator is `>themereviewteam` keeps a real author.
    let creator: String = articles::table
        .inner_join(article_authors::table.inner_join(authors::table))
        .filter(articles::import_key.eq("1730"))
        .select(authors::slug)
        .first(c)
        .unwrap();
    assert_eq!(creator, "themereviewteam");
    assert!(summary.warnings.iter().any(|w| w.contains(">themereviewteam")), "{summary}");
    // Every article has a byline.
    let without_byline: i64 = articles::table
        .filter(diesel::dsl::not(articles::id.eq_any(article_authors::table.select(article_authors::article_id))))
        .count()
        .get_result(c)
        .unwrap();
    assert_eq!(without_byline, 0);
    // Threaded comments keep their parents; pingbacks and trackbacks their kind.
    let replies: i64 = comments::table.filter(comments::parent_id.is_not_null()).count().get_result(c).unwrap();
    assert_eq!(replies, 9);
    let pings: Vec<(String, i64)> = comments::table
        .filter(comments::kind.ne("comment"))
        .group_by(comments::kind)
        .select((comments::kind, diesel::dsl::count_star()))
        .order(comments::kind)
        .load(c)
        .unwrap();
    assert_eq!(pings, vec![("pingback".into(), 2), ("trackback".into(), 2)]);
    // `_thumbnail_id` links featured images; `_wp_attachment_image_alt` gives alt text.
    let featured: Option<i64> = articles::table
        .filter(articles::slug.eq("template-featured-image-horizontal"))
        .select(articles::featured_media_id)
        .first(c)
        .unwrap();
    let alt: Option<String> =
        media::table.find(featured.expect("featured image linked")).select(media::alt_text).first(c).unwrap();
    assert!(alt.is_some_and(|a| !a.is_empty()));
    // The category tree keeps its parents.
    let children: i64 = categories::table.filter(categories::parent_id.is_not_null()).count().get_result(c).unwrap();
    assert_eq!(children, 10);
    // Bodies are sanitized.
    let bodies: Vec<String> = articles::table.select(articles::body_html).load(c).unwrap();
    assert!(bodies.iter().all(|b| !b.contains("<script") && !b.contains("javascript:")));
}

async fn reimporting_the_same_file_changes_no_counts(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    db.import_fixture();
    let before = db.counts();

    let second = db.import_fixture();

    assert_eq!(db.counts(), before, "re-import changed row counts");
    assert!(second.created.is_empty(), "re-import created rows: {second}");
    assert_eq!(second.unchanged.get("articles"), Some(&58), "{second}");
    assert!(!second.updated.contains_key("articles"), "unchanged articles are not `updated`: {second}");
    assert!(second.conflicts.is_empty(), "{second}");
}

async fn a_dry_run_writes_nothing(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };

    let summary = import_file(&mut db.conn(), &fixture(), true).expect("dry run succeeds");

    assert!(summary.dry_run);
    assert_eq!(summary.created.get("articles"), Some(&58));
    assert!(db.counts().iter().all(|(_, n)| *n == 0), "dry run wrote rows: {:?}", db.counts());
}

async fn a_file_that_is_not_wxr_or_is_truncated_writes_nothing(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let full = std::fs::read_to_string(fixture()).unwrap();
    let truncated = &full[..full.len() / 2];
    let cases: [(&str, &str, &str); 4] = [
        ("html", "<html><body>hi</body></html>", "not a WordPress export"),
        ("rss without wxr", "<rss><channel><item><title>x</title></item></channel></rss>", "wxr_version"),
        ("not xml", "this is { not xml", "not a WordPress export"),
        ("truncated", truncated, "truncated"),
    ];
    for (name, xml, expected) in cases {
        let err = import_str(&mut db.conn(), xml).expect_err(name);
        assert!(err.to_string().contains(expected), "{name}: {err}");
        assert!(db.counts().iter().all(|(_, n)| *n == 0), "{name} wrote rows: {:?}", db.counts());
    }
}

const WXR_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://example.test</wp:base_blog_url>
<wp:author><wp:author_login>ed</wp:author_login><wp:author_display_name>Ed</wp:author_display_name></wp:author>
"#;

fn post(id: &str, title: &str, slug: &str, creator: &str) -> String {
    format!(
        "<item><title>{title}</title><dc:creator>{creator}</dc:creator><content:encoded><![CDATA[Body <script>x()</script>]]></content:encoded>\
         {id}<wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt><wp:post_name>{slug}</wp:post_name>\
         <wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>\n"
    )
}

async fn one_bad_item_is_skipped_and_the_rest_imported(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let xml = format!(
        "{WXR_HEAD}{}{}{}</channel></rss>",
        post("", "No id", "no-id", "ed"),
        post("<wp:post_id>2</wp:post_id>", "Good", "good", "ed"),
        post("<wp:post_id>3</wp:post_id>", "Ghost writer", "ghost", "nobody-known"),
    );

    let summary = import_str(&mut db.conn(), &xml).expect("import succeeds");

    assert_eq!(summary.created.get("articles"), Some(&2), "{summary}");
    assert_eq!(summary.skipped.get("bad entries"), Some(&1), "{summary}");
    assert!(summary.warnings.iter().any(|w| w.contains("wp:post_id")), "{summary}");
    let c = &mut *db.conn();
    let ghost_author: String = articles::table
        .inner_join(article_authors::table.inner_join(authors::table))
        .filter(articles::slug.eq("ghost"))
        .select(authors::slug)
        .first(c)
        .unwrap();
    assert_eq!(ghost_author, "nobody-known");
}

async fn missing_and_duplicate_slugs_are_derived_and_suffixed(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let xml = format!(
        "{WXR_HEAD}{}{}{}{}</channel></rss>",
        post("<wp:post_id>1</wp:post_id>", "Hello Wörld", "", "ed"),
        post("<wp:post_id>2</wp:post_id>", "Other", "hello-world", "ed"),
        post("<wp:post_id>3</wp:post_id>", "", "", "ed"),
        post("<wp:post_id>4</wp:post_id>", "", "untitled", "ed"),
    );

    import_str(&mut db.conn(), &xml).expect("import succeeds");
    import_str(&mut db.conn(), &xml).expect("re-import succeeds");

    let c = &mut *db.conn();
    let slugs: Vec<(String, String, String)> = articles::table
        .order(articles::import_key)
        .select((articles::import_key.assume_not_null(), articles::slug, articles::title))
        .load(c)
        .unwrap();
    assert_eq!(
        slugs,
        vec![
            ("1".into(), "hello-world".into(), "Hello Wörld".into()),
            ("2".into(), "hello-world-2".into(), "Other".into()),
            ("3".into(), "post-3".into(), "".into()),
            ("4".into(), "untitled".into(), "".into()),
        ]
    );
}

/// One integer column named `n`, for raw SQL reads.
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}
