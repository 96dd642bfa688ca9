//! Repeatable WordPress migrations (issue 15 §2): re-imports that keep edits
//! made in broadsheet, and minimal (hand-made, theme-preview) exports.

use crate::helpers::{backend_tests, import_str, Backend, TestApp, TestDb};
use broadsheet::db::schema::*;
use broadsheet::import::{wordpress, Options};
use diesel::prelude::*;
use serde_json::json;

backend_tests!(
    an_edit_made_here_survives_a_reimport_as_a_conflict,
    overwrite_replaces_an_edit_with_a_revision_and_a_new_etag,
    a_changed_item_is_updated_and_an_unchanged_one_reported_unchanged,
    a_minimal_export_imports_and_reimports_without_duplicates,
    plain_categories_meet_declared_ones,
    a_bulk_import_across_batches_gives_what_row_by_row_gave,
);

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://example.test</wp:base_blog_url>
<wp:author><wp:author_login>ed</wp:author_login><wp:author_display_name>Ed</wp:author_display_name></wp:author>
"#;

fn export(title: &str, body: &str) -> String {
    format!(
        "{HEAD}<item><title>{title}</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>\
         <wp:post_id>7</wp:post_id><wp:post_date_gmt>2012-01-01 10:00:00</wp:post_date_gmt>\
         <wp:post_modified_gmt>2012-01-02 10:00:00</wp:post_modified_gmt><wp:post_name>story</wp:post_name>\
         <wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item></channel></rss>"
    )
}

fn import(db: &TestDb, xml: &str, overwrite: bool) -> broadsheet::import::Summary {
    wordpress::import_with(&mut db.conn(), xml.as_bytes(), Options { dry_run: false, overwrite })
        .expect("import succeeds")
}

/// Imports `export("Original", …)` into `app`, then retitles it through the
/// API as an editor; returns (path, editor token, ETag after the edit).
async fn import_then_edit(app: &TestApp) -> (String, String, String) {
    import(&app.db, &export("Original", "Body"), false);
    let editor = app.token_for("editor").await;
    let id: i64 = articles::table.select(articles::id).first(&mut *app.db.conn()).unwrap();
    let path = format!("/api/v1/articles/{id}");
    let (_, etag) = app.get_ok_as(&path, &editor).await;
    let edited =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"title": "Edited here"}))).await;
    assert_eq!(edited.status.as_u16(), 200, "{}", String::from_utf8_lossy(&edited.body));
    let etag = edited.header("etag").unwrap().to_owned();
    (path, editor, etag)
}

async fn an_edit_made_here_survives_a_reimport_as_a_conflict(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (path, editor, etag) = import_then_edit(&app).await;

    let summary = import(&app.db, &export("Original", "Body"), false);

    assert_eq!(summary.conflicts.len(), 1, "{summary}");
    assert!(summary.conflicts[0].contains("story") && summary.conflicts[0].contains("--overwrite"), "{summary}");
    assert!(!summary.updated.contains_key("articles"), "{summary}");
    let (now, etag_now) = app.get_ok_as(&path, &editor).await;
    assert_eq!(now["data"]["title"], "Edited here", "the edit survives");
    assert_eq!(etag_now, etag, "nothing was written");
    assert!(summary.to_string().contains("conflicts: 1"), "{summary}");
}

async fn overwrite_replaces_an_edit_with_a_revision_and_a_new_etag(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (path, editor, etag) = import_then_edit(&app).await;
    let (revs_before, _) = app.get_ok_as(&format!("{path}/revisions"), &editor).await;

    let summary = import(&app.db, &export("Original", "Body"), true);

    assert!(summary.conflicts.is_empty(), "{summary}");
    assert_eq!(summary.updated.get("articles"), Some(&1), "{summary}");
    assert!(summary.warnings.iter().any(|w| w.contains("overwritten")), "{summary}");
    let (now, etag_now) = app.get_ok_as(&path, &editor).await;
    assert_eq!(now["data"]["title"], "Original");
    assert_ne!(etag_now, etag, "the version was bumped, so the ETag changed");
    assert!(
        now["data"]["updated_at"].as_str().unwrap() > "2013",
        "updated_at never goes back to the export's: {}",
        now["data"]["updated_at"]
    );
    let (revs, _) = app.get_ok_as(&format!("{path}/revisions"), &editor).await;
    let count = |v: &serde_json::Value| v["data"].as_array().map_or(0, Vec::len);
    assert_eq!(count(&revs), count(&revs_before) + 1, "one revision recorded: {revs}");
    assert!(revs["data"][0].to_string().contains("title"), "the revision names the title: {revs}");
    // The stale ETag no longer writes.
    let stale = app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"title": "x"}))).await;
    stale.assert_problem(412);
    // Once overwritten, the article is as its import left it: no conflict next time.
    let again = import(&app.db, &export("Original", "Body"), false);
    assert!(again.conflicts.is_empty(), "{again}");
    assert_eq!(again.unchanged.get("articles"), Some(&1), "{again}");
}

async fn a_changed_item_is_updated_and_an_unchanged_one_reported_unchanged(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    import(&db, &export("Original", "Body"), false);
    let version = |db: &TestDb| -> i32 { articles::table.select(articles::version).first(&mut *db.conn()).unwrap() };
    let v1 = version(&db);

    let same = import(&db, &export("Original", "Body"), false);
    let v_same = version(&db);
    let changed = import(&db, &export("Original", "New body"), false);
    let v_changed = version(&db);

    assert_eq!(same.unchanged.get("articles"), Some(&1), "{same}");
    assert!(!same.updated.contains_key("articles"), "{same}");
    assert_eq!(v_same, v1, "an unchanged item writes nothing");
    assert_eq!(changed.updated.get("articles"), Some(&1), "{changed}");
    assert!(changed.conflicts.is_empty(), "{changed}");
    assert_eq!(v_changed, v1 + 1, "an update bumps the version");
    let body: String = articles::table.select(articles::body_source).first(&mut *db.conn()).unwrap();
    assert!(body.contains("New body"), "{body}");
    let revisions: i64 = article_revisions::table.count().get_result(&mut *db.conn()).unwrap();
    assert_eq!(revisions, 1, "the update is recorded as a revision");
}

/// A hand-made, theme-preview shaped export: no `wp:author`, no
/// `wp:post_id`, no `wp:post_name`, no `wp:status`/`wp:post_type`, plain RSS
/// `<category>` elements and no base URLs (only the channel's `<link>`).
const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Theme Preview</title>
<link>https://preview.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<item>
<title>Hello Theme Preview</title>
<link>https://preview.example/?p=1</link>
<pubDate>Tue, 01 Jan 2019 10:00:00 +0000</pubDate>
<dc:creator>Jane Writer</dc:creator>
<guid isPermaLink="false">https://preview.example/?p=1</guid>
<category>News Desk</category>
<category>Culture</category>
<content:encoded><![CDATA[First paragraph.

Second paragraph.]]></content:encoded>
<wp:status>publish</wp:status>
</item>
<item>
<title>Second Story</title>
<link>https://preview.example/second</link>
<pubDate>Wed, 02 Jan 2019 10:00:00 +0000</pubDate>
<dc:creator>Jane Writer</dc:creator>
<category>News Desk</category>
<content:encoded><![CDATA[Only a link keys this one.]]></content:encoded>
<wp:status>publish</wp:status>
</item>
</channel>
</rss>
"#;

async fn a_minimal_export_imports_and_reimports_without_duplicates(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };

    let first = import_str(&mut db.conn(), MINIMAL).expect("a minimal export imports");
    let counts = db.counts();
    let second = import_str(&mut db.conn(), MINIMAL).expect("and re-imports");
    let changed = import_str(&mut db.conn(), &MINIMAL.replace("Only a link keys this one.", "Edited in WordPress."))
        .expect("and updates");

    assert_eq!(first.created.get("articles"), Some(&2), "{first}");
    assert_eq!(first.created.get("authors"), Some(&1), "{first}");
    assert_eq!(first.created.get("categories"), Some(&2), "{first}");
    assert!(first.skipped.is_empty(), "{first}");
    assert!(first.warnings.is_empty(), "a well-formed minimal export warns about nothing: {first}");
    assert_eq!(db.counts(), counts, "re-imports never duplicate");
    assert!(second.created.is_empty(), "{second}");
    assert_eq!(second.unchanged.get("articles"), Some(&2), "{second}");
    assert!(changed.created.is_empty(), "{changed}");
    assert_eq!(changed.updated.get("articles"), Some(&1), "{changed}");
    let c = &mut *db.conn();
    let rows: Vec<(String, String, String, String)> = articles::table
        .order(articles::id)
        .select((articles::slug, articles::title, articles::status, articles::import_key.assume_not_null()))
        .load(c)
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "hello-theme-preview".into(),
                "Hello Theme Preview".into(),
                "published".into(),
                "guid:https://preview.example/?p=1".into()
            ),
            (
                "second-story".into(),
                "Second Story".into(),
                "published".into(),
                "link:https://preview.example/second".into()
            ),
        ]
    );
    let source: String = articles::table.select(articles::import_source.assume_not_null()).first(c).unwrap();
    assert_eq!(source, "https://preview.example");
    let author: (String, String) = authors::table.select((authors::slug, authors::display_name)).first(c).unwrap();
    assert_eq!(author, ("jane-writer".into(), "Jane Writer".into()));
    let bylined: i64 = article_authors::table.count().get_result(c).unwrap();
    assert_eq!(bylined, 2);
    let cats: Vec<(String, String)> =
        categories::table.order(categories::slug).select((categories::slug, categories::name)).load(c).unwrap();
    assert_eq!(cats, vec![("culture".into(), "Culture".into()), ("news-desk".into(), "News Desk".into())]);
    let filed: i64 = article_categories::table.count().get_result(c).unwrap();
    assert_eq!(filed, 3);
    let published: Option<chrono::NaiveDateTime> =
        articles::table.filter(articles::slug.eq("second-story")).select(articles::published_at).first(c).unwrap();
    assert_eq!(published.unwrap().to_string(), "2019-01-02 10:00:00", "pubDate dates an item without wp dates");
}

async fn plain_categories_meet_declared_ones(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let xml = format!(
        "{HEAD}<wp:category><wp:category_nicename>news-desk</wp:category_nicename><wp:cat_name>News Desk</wp:cat_name></wp:category>\
         <item><title>A</title><dc:creator>ed</dc:creator><wp:post_id>1</wp:post_id><wp:status>publish</wp:status>\
         <category>News Desk</category><category domain=\"category\">Sport</category></item></channel></rss>"
    );

    let summary = import_str(&mut db.conn(), &xml).expect("import succeeds");

    assert_eq!(summary.created.get("categories"), Some(&2), "{summary}");
    let c = &mut *db.conn();
    let filed: Vec<String> = article_categories::table
        .inner_join(categories::table)
        .order(categories::slug)
        .select(categories::slug)
        .load(c)
        .unwrap();
    assert_eq!(filed, vec!["news-desk".to_owned(), "sport".to_owned()]);
}

/// An export of `n` posts (`wp:post_id` 1..=n, slug `p-{id}`, one category,
/// two tags), with `extra` items appended as they are.
fn bulk_export(n: usize, extra: &str) -> String {
    let mut xml = String::from(HEAD);
    xml.push_str(
        "<wp:category><wp:category_nicename>news</wp:category_nicename><wp:cat_name>News</wp:cat_name></wp:category>",
    );
    for id in 1..=n {
        let slug = if id == 600 || id == 601 { "same".to_owned() } else { format!("p-{id}") };
        xml.push_str(&format!(
            "<item><title>Post {id}</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[Body {id}]]></content:encoded>\
             <wp:post_id>{id}</wp:post_id><wp:post_date_gmt>2012-01-01 10:00:00</wp:post_date_gmt>\
             <wp:post_name>{slug}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\
             <category domain=\"category\" nicename=\"news\">News</category>\
             <category domain=\"post_tag\" nicename=\"t{a}\">T{a}</category>\
             <category domain=\"post_tag\" nicename=\"t{b}\">T{b}</category></item>",
            a = id % 7,
            b = 7 + id % 5,
        ));
    }
    xml.push_str(extra);
    xml.push_str("</channel></rss>");
    xml
}

async fn a_bulk_import_across_batches_gives_what_row_by_row_gave(backend: Backend) {
    // Arrange: 1,203 posts (three batches of 500), two of them wanting the
    // same slug inside one batch, and post 5 again at the end with a new
    // title, as a draft (it leaves the published tallies it was counted in).
    let Some(db) = TestDb::create(backend) else { return };
    let again = "<item><title>Post 5, revised</title><dc:creator>ed</dc:creator>\
                 <content:encoded><![CDATA[Body 5]]></content:encoded><wp:post_id>5</wp:post_id>\
                 <wp:post_date_gmt>2012-01-01 10:00:00</wp:post_date_gmt><wp:post_name>p-5</wp:post_name>\
                 <wp:status>draft</wp:status><wp:post_type>post</wp:post_type></item>";

    // Act
    let summary = import(&db, &bulk_export(1203, again), false);

    // Assert
    assert_eq!(summary.created.get("articles"), Some(&1203), "{summary}");
    assert_eq!(summary.updated.get("articles"), Some(&1), "the repeated post updates the first: {summary}");
    let mut conn = db.conn();
    let n_articles: i64 = articles::table.count().get_result(&mut *conn).unwrap();
    let n_cats: i64 = article_categories::table.count().get_result(&mut *conn).unwrap();
    let n_tags: i64 = article_tags::table.count().get_result(&mut *conn).unwrap();
    let n_bylines: i64 = article_authors::table.count().get_result(&mut *conn).unwrap();
    let n_imports: i64 = article_imports::table.count().get_result(&mut *conn).unwrap();
    // Post 5's revision has no category and no tags: its relations were replaced.
    assert_eq!((n_articles, n_cats, n_tags, n_bylines, n_imports), (1203, 1202, 2404, 1203, 1203));
    let slug_of = |key: &str, conn: &mut _| -> String {
        articles::table.filter(articles::import_key.eq(key)).select(articles::slug).first(conn).unwrap()
    };
    assert_eq!(slug_of("600", &mut *conn), "same", "the earlier post keeps the slug");
    assert_eq!(slug_of("601", &mut *conn), "same-2");
    assert!(summary.warnings.iter().any(|w| w.contains("post 601") && w.contains("same-2")), "{summary}");
    let title: String =
        articles::table.filter(articles::import_key.eq("5")).select(articles::title).first(&mut *conn).unwrap();
    assert_eq!(title, "Post 5, revised");
    // Post 5's relations were replaced by the revised item's (no category, no tags).
    let id5: i64 = articles::table.filter(articles::import_key.eq("5")).select(articles::id).first(&mut *conn).unwrap();
    let cats5: i64 = article_categories::table
        .filter(article_categories::article_id.eq(id5))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(cats5, 0);
    drop(conn);
    // The batches are counted once, at the end (PostgreSQL), and post 5's
    // second write moved it out of what they counted.
    crate::listing::assert_tallies_match(&db, "a bulk import across batches");
    let published: i64 = article_tallies::table
        .filter(article_tallies::kind.eq("all"))
        .filter(article_tallies::status.eq("published"))
        .select(article_tallies::n)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(published, 1202, "post 5 is a draft now");
}
