//! Content front ends can use without guessing: titles are plain text
//! (imported HTML titles converted once, on import and by a data migration
//! for rows imported before), imported excerpts are text, an article without
//! an excerpt gets an automatic one, and `seo` falls back.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use serde_json::json;

use broadsheet::db::schema::articles;
use broadsheet::db::DbConnection;

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(
    imported_html_titles_become_plain_text,
    the_data_migration_converts_only_imported_titles,
    an_article_without_excerpt_gets_an_automatic_one_and_seo_falls_back,
    imported_excerpts_are_text_and_fixture_seo_falls_back_to_the_featured_image,
);

const WXR: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://example.test</wp:base_blog_url>
<wp:author><wp:author_login>ed</wp:author_login><wp:author_display_name>Ed</wp:author_display_name></wp:author>
<item><title><![CDATA[Fish &amp; <em>chips</em>]]></title><dc:creator>ed</dc:creator>
<content:encoded><![CDATA[<p>Body text.</p>]]></content:encoded>
<excerpt:encoded><![CDATA[<p>Short <strong>and</strong> sweet &amp; true</p>]]></excerpt:encoded>
<wp:post_id>7</wp:post_id><wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt><wp:post_name>fish</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
</channel></rss>"#;

async fn imported_html_titles_become_plain_text(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    let markup = app.get_ok("/api/v1/articles/markup-title-with-markup").await;
    let special = app.get_ok("/api/v1/articles/title-with-special-characters").await;

    assert_eq!(markup["data"]["title"], "Markup: Title With Markup");
    assert_eq!(special["data"]["title"], "Markup: Title With Special Characters ~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>");
}

/// Reverts migrations until the plain-titles marker is no longer applied.
fn revert_to_before_plain_titles(conn: &mut DbConnection) {
    loop {
        let reverted = match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(broadsheet::db::SQLITE_MIGRATIONS),
            DbConnection::Postgresql(c) => c.revert_last_migration(broadsheet::db::POSTGRES_MIGRATIONS),
        }
        .expect("migration reverted")
        .to_string();
        if reverted.replace('-', "").starts_with("20261202000091") {
            return;
        }
    }
}

async fn the_data_migration_converts_only_imported_titles(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let (typed, _) = app.create_article(&editor, json!({"title": "Use <b> & <i> in HTML"})).await;
    let conn = &mut *app.db.conn();
    // As imported before the importer converted titles.
    diesel::update(articles::table.filter(articles::import_key.eq("1173")))
        .set((
            articles::title.eq("Markup: Title <em>With</em> <b>Mark<sup>up</sup></b> &amp; Tom&#8217;s"),
            articles::excerpt.eq(Some("<p>An <em>HTML</em> excerpt &amp; more</p>")),
        ))
        .execute(conn)
        .unwrap();
    revert_to_before_plain_titles(conn);

    let applied = broadsheet::data_fixes::migrate(conn).expect("migrations re-applied");

    assert!(applied.iter().any(|v| v.replace('-', "").starts_with("20261202000091")), "{applied:?}");
    let imported: String =
        articles::table.filter(articles::import_key.eq("1173")).select(articles::title).first(conn).unwrap();
    let own: String = articles::table.find(typed["id"].as_i64().unwrap()).select(articles::title).first(conn).unwrap();
    assert_eq!(imported, "Markup: Title With Markup & Tom’s");
    let excerpt: Option<String> =
        articles::table.filter(articles::import_key.eq("1173")).select(articles::excerpt).first(conn).unwrap();
    assert_eq!(excerpt.as_deref(), Some("An HTML excerpt & more"));
    assert_eq!(own, "Use <b> & <i> in HTML", "titles typed through the API were plain text already");
}

async fn an_article_without_excerpt_gets_an_automatic_one_and_seo_falls_back(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let words: Vec<String> = (1..=60).map(|n| format!("w{n}")).collect();
    let long = format!("{}\n\n{}", words[..30].join(" "), words[30..].join(" "));

    let (auto, _) = app.create_article(&editor, json!({"title": "Long", "body": long, "status": "published"})).await;
    let (short, _) = app.create_article(&editor, json!({"title": "Short", "body": "Just *three* words."})).await;
    let (empty, _) = app.create_article(&editor, json!({"title": "Empty"})).await;
    let (written, _) = app
        .create_article(
            &editor,
            json!({"title": "Written", "body": "Body.", "excerpt": "Our <em>own</em> summary",
                   "meta_title": "SEO title", "meta_description": "SEO description"}),
        )
        .await;

    let want = format!("{}…", words[..55].join(" "));
    assert_eq!((auto["excerpt"].as_str(), auto["excerpt_auto"].as_bool()), (Some(want.as_str()), Some(true)));
    assert_eq!(auto["seo"]["title"], "Long");
    assert_eq!(auto["seo"]["description"], want.as_str());
    assert!(auto["seo"]["meta_title"].is_null() && auto["seo"]["meta_description"].is_null(), "overrides stay unset");
    assert!(auto["seo"]["og_image_url"].is_null());
    assert_eq!((short["excerpt"].as_str(), short["excerpt_auto"].as_bool()), (Some("Just three words."), Some(true)));
    assert!(empty["excerpt"].is_null());
    assert_eq!(empty["excerpt_auto"], false);
    assert!(empty["seo"]["description"].is_null());
    assert_eq!(written["excerpt_auto"], false);
    assert_eq!(written["seo"]["title"], "SEO title");
    assert_eq!(written["seo"]["description"], "SEO description");
    // Lists carry the same automatic excerpt.
    let list = app.get_ok("/api/v1/articles").await;
    let item = list["data"].as_array().unwrap().iter().find(|a| a["slug"] == "long").expect("published article");
    assert_eq!((item["excerpt"].as_str(), item["excerpt_auto"].as_bool()), (Some(want.as_str()), Some(true)));

    // A list reads only the head of each body; words so long that the head
    // holds fewer than 56 of them still give the whole excerpt (60 words of
    // 80 characters, cut with "…"; 30 of 100, not cut).
    let wide: Vec<String> = (1..=60).map(|n| format!("{n:0>80}")).collect();
    let few: Vec<String> = (1..=30).map(|n| format!("{n:x>100}")).collect();
    let (wide_one, _) =
        app.create_article(&editor, json!({"title": "Wide", "body": wide.join(" "), "status": "published"})).await;
    let (few_one, _) =
        app.create_article(&editor, json!({"title": "Few", "body": few.join(" "), "status": "published"})).await;
    let wide_want = format!("{}…", wide[..55].join(" "));
    let few_want = few.join(" ");
    assert_eq!(wide_one["excerpt"].as_str(), Some(wide_want.as_str()));
    assert_eq!(few_one["excerpt"].as_str(), Some(few_want.as_str()));
    let list = app.get_ok("/api/v1/articles?per_page=100").await;
    let excerpt_of = |slug: &str| {
        let item = list["data"].as_array().unwrap().iter().find(|a| a["slug"] == slug).expect("listed");
        item["excerpt"].as_str().map(str::to_owned)
    };
    assert_eq!(excerpt_of("wide").as_deref(), Some(wide_want.as_str()));
    assert_eq!(excerpt_of("few").as_deref(), Some(few_want.as_str()));
    assert_eq!(excerpt_of("long").as_deref(), Some(want.as_str()));
}

async fn imported_excerpts_are_text_and_fixture_seo_falls_back_to_the_featured_image(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    crate::helpers::import_str(&mut app.db.conn(), WXR).expect("imported");

    let fish = app.get_ok("/api/v1/articles/fish").await;
    let featured = app.get_ok("/api/v1/articles/template-featured-image-horizontal").await;
    let protected = app.get_ok("/api/v1/articles/template-password-protected").await;

    assert_eq!(fish["data"]["title"], "Fish & chips");
    assert_eq!(fish["data"]["excerpt"], "Short and sweet & true");
    assert_eq!(fish["data"]["excerpt_auto"], false);
    let image = featured["data"]["featured_media"]["url"].as_str().expect("a featured image URL");
    assert!(featured["data"]["seo"]["og_image_media_id"].is_null());
    assert_eq!(featured["data"]["seo"]["og_image_url"], image);
    // A protected body never leaks through the automatic excerpt or the description.
    assert!(protected["data"]["excerpt"].is_null());
    assert_eq!(protected["data"]["excerpt_auto"], false);
    assert!(protected["data"]["seo"]["description"].is_null());
}
