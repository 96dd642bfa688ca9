//! Feeds (`/feeds/...`), sitemaps (`/sitemap.xml`, `/sitemap-news.xml`) and
//! `robots.txt`.

use serde_json::{json, Value};

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(
    every_feed_format_parses_back_and_holds_published_unprotected_articles_only,
    scoped_feeds_follow_their_term_and_bad_input_is_a_problem,
    a_category_atom_feed_shows_an_article_once_it_is_published,
    feeds_answer_304_to_if_none_match_and_if_modified_since,
    feed_entries_carry_featured_images_with_credit_and_excerpt_only_mode,
    the_sitemap_index_splits_files_at_the_configured_limit,
    the_news_sitemap_keeps_the_last_48_hours,
    robots_txt_names_both_sitemaps,
    the_sitemap_lists_published_pages_and_dates_terms_by_their_newest_article,
);

/// Runs `tests/support/distribution_check.py ARGS` with `stdin`; `None` when a
/// needed Python package is missing (allowed only outside CI).
pub fn python_check(args: &[&str], stdin: &[u8]) -> Option<(bool, String)> {
    use std::io::Write;
    let script = format!("{}/tests/support/distribution_check.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(3) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs the Python checker's packages: {stderr}");
        eprintln!("skipping independent check: {stderr}");
        return None;
    }
    Some((out.status.success(), stderr))
}

fn set_column(app: &TestApp, slug: &str, sql_set: &str) {
    use diesel::connection::SimpleConnection;
    app.db.conn().batch_execute(&format!("UPDATE articles SET {sql_set} WHERE slug = '{slug}'")).expect("update");
}

async fn every_feed_format_parses_back_and_holds_published_unprotected_articles_only(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let everything = app.get_ok("/api/v1/articles?per_page=100").await;
    let public_unprotected: Vec<String> = everything["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["password_protected"] == false)
        .map(|a| format!("http://broadsheet.test/api/v1/articles/{}", a["id"]))
        .collect();

    let rss = app.get("/feeds/rss").await;
    let atom = app.get("/feeds/atom").await;
    let jsonf = app.get("/feeds/json").await;

    assert_eq!(rss.status.as_u16(), 200);
    assert_eq!(rss.content_type(), "application/rss+xml; charset=utf-8");
    assert_eq!(atom.content_type(), "application/atom+xml; charset=utf-8");
    assert_eq!(jsonf.content_type(), "application/feed+json; charset=utf-8");
    for res in [&rss, &atom, &jsonf] {
        assert!(res.header("etag").is_some() && res.header("last-modified").is_some(), "validators on every feed");
    }
    let channel = rss::Channel::read_from(&rss.body[..]).expect("RSS parses back");
    let feed = atom_syndication::Feed::read_from(&atom.body[..]).expect("Atom parses back");
    let json_feed = jsonf.json();
    assert_eq!(channel.items().len(), 20, "FEED_ITEMS default");
    assert_eq!(feed.entries().len(), 20);
    assert_eq!(json_feed["items"].as_array().unwrap().len(), 20);
    let rss_ids: Vec<&str> = channel.items().iter().map(|i| i.guid().unwrap().value()).collect();
    let atom_ids: Vec<&str> = feed.entries().iter().map(|e| e.id()).collect();
    let json_ids: Vec<&str> =
        json_feed["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(rss_ids, atom_ids, "the formats list the same entries");
    assert_eq!(rss_ids, json_ids);
    assert!(rss_ids.iter().all(|id| public_unprotected.contains(&id.to_string())), "only public unprotected articles");
    let all = String::from_utf8_lossy(&rss.body).to_string()
        + &String::from_utf8_lossy(&atom.body)
        + &String::from_utf8_lossy(&jsonf.body);
    for absent in ["template-password-protected", "/scheduled", "/draft\"", "/draft<"] {
        assert!(!all.contains(absent), "{absent} leaked into a feed");
    }
    // RSS items: body as content:encoded, bylines as dc:creator, update time.
    let first = &channel.items()[0];
    assert!(first.content().is_some_and(|c| !c.is_empty()), "full content by default");
    assert!(!first.dublin_core_ext().unwrap().creators().is_empty(), "bylines");
    assert!(first.link().unwrap().starts_with("http://broadsheet.test/"), "front-end URL pattern");
    assert!(feed.entries()[0].published().is_some() && !feed.entries()[0].authors().is_empty());
    assert_eq!(channel.atom_ext().unwrap().links()[0].href(), "http://broadsheet.test/feeds/rss");
    if let Some((ok, why)) = crate::distribution::python_check(&["jsonfeed"], &jsonf.body) {
        assert!(ok, "JSON Feed 1.1 schema: {why}");
    }
}

async fn scoped_feeds_follow_their_term_and_bad_input_is_a_problem(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let by_tag = app.get_ok("/api/v1/articles?tag=template&per_page=100").await;
    let expected: Vec<String> = by_tag["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["password_protected"] == false)
        .take(20)
        .map(|a| format!("http://broadsheet.test/api/v1/articles/{}", a["id"]))
        .collect();

    let tag_feed = app.get("/feeds/json/tag/template").await;
    let author = app.get("/feeds/atom/author/themedemos").await;
    let bad_format = app.get("/feeds/xml").await;
    let bad_kind = app.get("/feeds/rss/colour/red").await;
    let bad_slugs = [
        app.get("/feeds/rss/tag/no-such-tag").await,
        app.get("/feeds/atom/category/nope").await,
        app.get("/feeds/json/author/nobody").await,
        app.get("/feeds/rss/series/none").await,
    ];

    let ids: Vec<String> =
        tag_feed.json()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, expected, "the tag feed holds the tag's newest unprotected articles");
    assert!(tag_feed.json()["title"].as_str().unwrap().ends_with("\u{2013} template"), "{}", tag_feed.json()["title"]);
    assert_eq!(author.status.as_u16(), 200, "{}", String::from_utf8_lossy(&author.body));
    let feed = atom_syndication::Feed::read_from(&author.body[..]).unwrap();
    assert!(!feed.entries().is_empty());
    assert!(feed
        .entries()
        .iter()
        .all(|e| e.authors().iter().any(|p| p.uri().unwrap().ends_with("/authors/themedemos"))));
    let body = bad_format.assert_problem(400);
    assert_eq!(body["errors"][0]["field"], "format");
    let body = bad_kind.assert_problem(400);
    assert_eq!(body["errors"][0]["field"], "kind");
    for res in &bad_slugs {
        res.assert_problem(404);
    }
}

async fn a_category_atom_feed_shows_an_article_once_it_is_published(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let cat_id: i64 = {
        use broadsheet::db::schema::categories;
        use diesel::prelude::*;
        let now = broadsheet::db::now();
        diesel::insert_into(categories::table)
            .values((
                categories::slug.eq("city-hall"),
                categories::name.eq("City hall"),
                categories::created_at.eq(now),
                categories::updated_at.eq(now),
            ))
            .returning(categories::id)
            .get_result(&mut *app.db.conn())
            .unwrap()
    };
    let (draft, etag) = app
        .create_article(
            &editor,
            json!({"title": "Council votes", "body": "The *vote* passed.", "categories": [cat_id]}),
        )
        .await;
    let before = app.get("/feeds/atom/category/city-hall").await;

    let published = app
        .authed_with(
            "PATCH",
            &format!("/api/v1/articles/{}", draft["id"]),
            &editor,
            &[("if-match", &etag)],
            Some(&json!({"status": "published"})),
        )
        .await;
    let after = app.get("/feeds/atom/category/city-hall").await;

    assert_eq!(published.status.as_u16(), 200, "{}", String::from_utf8_lossy(&published.body));
    let before = atom_syndication::Feed::read_from(&before.body[..]).unwrap();
    assert!(before.entries().is_empty(), "a draft is never in a feed");
    let after = atom_syndication::Feed::read_from(&after.body[..]).unwrap();
    assert_eq!(after.entries().len(), 1);
    let entry = &after.entries()[0];
    assert_eq!(entry.title().as_str(), "Council votes");
    assert!(entry.content().unwrap().value().unwrap().contains("<em>vote</em>"), "sanitized body HTML");
    assert_eq!(entry.categories()[0].term(), "city-hall");
    assert!(
        entry.links()[0].href().starts_with("http://broadsheet.test/20"),
        "article pattern {{yyyy}}/{{mm}}/{{slug}}"
    );
    assert!(entry.links()[0].href().ends_with("/council-votes"));
}

async fn feeds_answer_304_to_if_none_match_and_if_modified_since(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let first = app.get("/feeds/rss").await;
    let etag = first.header("etag").unwrap().to_owned();
    let last_modified = first.header("last-modified").unwrap().to_owned();

    let by_etag = app.send("GET", "/feeds/rss", &[("if-none-match", &etag)], None).await;
    let by_date = app.send("GET", "/feeds/rss", &[("if-modified-since", &last_modified)], None).await;
    let stale = app.send("GET", "/feeds/rss", &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")], None).await;
    let other_format = app.send("GET", "/feeds/atom", &[("if-none-match", &etag)], None).await;

    assert_eq!(by_etag.status.as_u16(), 304);
    assert!(by_etag.body.is_empty());
    assert_eq!(by_date.status.as_u16(), 304);
    assert_eq!(stale.status.as_u16(), 200);
    assert_eq!(other_format.status.as_u16(), 200, "another body, another ETag");
}

async fn feed_entries_carry_featured_images_with_credit_and_excerpt_only_mode(backend: Backend) {
    let Some(db) = crate::helpers::TestDb::create(backend) else { return };
    db.import_fixture();
    let app = TestApp::serve(db, &[("FEED_CONTENT", "excerpt"), ("FEED_ITEMS", "100")]);
    set_column(
        &app,
        "template-featured-image-horizontal",
        "featured_credit = 'Photo: A. Lens', excerpt = 'Wide & short'",
    );

    let rss = app.get("/feeds/rss").await;
    let jsonf = app.get("/feeds/json").await;

    let channel = rss::Channel::read_from(&rss.body[..]).unwrap();
    assert!(channel.items().iter().all(|i| i.content().is_none()), "FEED_CONTENT=excerpt leaves bodies out");
    let item =
        channel.items().iter().find(|i| i.link().unwrap().ends_with("/template-featured-image-horizontal")).unwrap();
    assert_eq!(item.description(), Some("Wide & short"));
    let enclosure = item.enclosure().expect("featured image as enclosure");
    assert!(enclosure.url().starts_with("https://"));
    let media = &item.extensions()["media"]["content"][0];
    assert_eq!(media.attrs()["url"], enclosure.url());
    assert_eq!(media.children()["credit"][0].value(), Some("Photo: A. Lens"));
    let items = jsonf.json()["items"].as_array().unwrap().clone();
    let j = items.iter().find(|i| i["url"].as_str().unwrap().ends_with("/template-featured-image-horizontal")).unwrap();
    assert_eq!(j["_broadsheet"]["image_credit"], "Photo: A. Lens");
    assert_eq!(j["attachments"][0]["url"], enclosure.url());
    assert_eq!(j["content_html"], "<p>Wide &amp; short</p>");
    if let Some((ok, why)) = python_check(&["jsonfeed"], &jsonf.body) {
        assert!(ok, "JSON Feed 1.1 schema: {why}");
    }
}

fn locs(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    text.split("<loc>").skip(1).map(|s| s.split("</loc>").next().unwrap().replace("&amp;", "&")).collect()
}

fn assert_well_formed(xml: &[u8], root: &str) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut first = None;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            quick_xml::events::Event::Start(e) if first.is_none() => {
                first = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(first.as_deref(), Some(root));
}

async fn the_sitemap_index_splits_files_at_the_configured_limit(backend: Backend) {
    let Some(db) = crate::helpers::TestDb::create(backend) else { return };
    db.import_fixture();
    let app = TestApp::serve(
        db,
        &[("SITEMAP_MAX_URLS", "10"), ("FRONTEND_ARTICLE_URL", "https://news.example/{yyyy}/{slug}")],
    );
    let everything = app.get_ok("/api/v1/articles?per_page=100").await;
    let listed = everything["data"].as_array().unwrap().iter().filter(|a| a["password_protected"] == false).count();

    let index = app.get("/sitemap.xml").await;
    let files: Vec<String> = locs(&index.body);
    let mut article_urls = Vec::new();
    let mut other_urls = Vec::new();
    for f in &files {
        let path = f.strip_prefix("http://broadsheet.test").expect("files are ours");
        let res = app.get(path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}");
        assert_eq!(res.content_type(), "application/xml; charset=utf-8");
        assert_well_formed(&res.body, "urlset");
        let urls = locs(&res.body);
        assert!(urls.len() <= 10 && !urls.is_empty(), "{path} has {} URLs", urls.len());
        if path.contains("/articles-") {
            assert!(
                String::from_utf8_lossy(&res.body).matches("<lastmod>").count() == urls.len(),
                "lastmod per article"
            );
            article_urls.extend(urls);
        } else {
            other_urls.extend(urls);
        }
    }
    let past_end = app.get(&format!("/sitemaps/articles-{}.xml", listed.div_ceil(10) + 1)).await;
    let bogus = app.get("/sitemaps/events-1.xml").await;

    assert_eq!(index.status.as_u16(), 200);
    assert_well_formed(&index.body, "sitemapindex");
    assert_eq!(files.iter().filter(|f| f.contains("/sitemaps/articles-")).count(), listed.div_ceil(10));
    assert_eq!(article_urls.len(), listed, "every listed article once");
    assert!(article_urls.iter().all(|u| u.starts_with("https://news.example/")), "the configured pattern");
    for absent in ["/draft", "/scheduled", "template-password-protected"] {
        assert!(!article_urls.iter().any(|u| u.ends_with(absent) || u.contains(absent)), "{absent} in the sitemap");
    }
    assert!(other_urls.iter().any(|u| u.ends_with("/authors/themedemos")));
    assert!(other_urls.iter().any(|u| u.ends_with("/tags/template")));
    assert!(other_urls.iter().any(|u| u.contains("/categories/")));
    past_end.assert_problem(404);
    bogus.assert_problem(404);
}

async fn the_news_sitemap_keeps_the_last_48_hours(backend: Backend) {
    let Some(db) = crate::helpers::TestDb::create(backend) else { return };
    db.import_fixture();
    let app = TestApp::serve(db, &[("SITE_TITLE", "The Daily <Test>"), ("SITE_LANGUAGE", "en")]);
    let now = chrono::Utc::now().naive_utc();
    let fmt = |d: chrono::Duration| (now - d).format("%Y-%m-%d %H:%M:%S").to_string();
    set_column(&app, "template-excerpt-defined", &format!("published_at = '{}'", fmt(chrono::Duration::hours(1))));
    set_column(&app, "template-more-tag", &format!("published_at = '{}'", fmt(chrono::Duration::hours(47))));
    set_column(&app, "template-comments", &format!("published_at = '{}'", fmt(chrono::Duration::hours(49))));
    set_column(&app, "template-password-protected", &format!("published_at = '{}'", fmt(chrono::Duration::hours(2))));

    let res = app.get("/sitemap-news.xml").await;

    assert_eq!(res.status.as_u16(), 200);
    assert_well_formed(&res.body, "urlset");
    let urls = locs(&res.body);
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].ends_with("/template-excerpt-defined") && urls[1].ends_with("/template-more-tag"), "{urls:?}");
    let text = String::from_utf8_lossy(&res.body);
    assert_eq!(text.matches("<news:name>The Daily &lt;Test&gt;</news:name>").count(), 2);
    assert_eq!(text.matches("<news:language>en</news:language>").count(), 2);
    assert!(text.contains("<news:title>"), "{text}");
    assert!(
        text.contains(&format!("<news:publication_date>{}", (now - chrono::Duration::hours(1)).format("%Y-%m-%dT")))
    );
}

async fn robots_txt_names_both_sitemaps(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };

    let res = app.get("/robots.txt").await;

    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.content_type(), "text/plain; charset=utf-8");
    let body: Value = Value::String(String::from_utf8_lossy(&res.body).into_owned());
    let text = body.as_str().unwrap();
    assert!(text.contains("Sitemap: http://broadsheet.test/sitemap.xml\n"), "{text}");
    assert!(text.contains("Sitemap: http://broadsheet.test/sitemap-news.xml\n"), "{text}");
}

/// `(loc, lastmod)` of every `<url>` or `<sitemap>` entry (`lastmod` follows `loc`).
fn entries(xml: &[u8]) -> Vec<(String, Option<String>)> {
    let text = String::from_utf8_lossy(xml);
    text.split("<loc>")
        .skip(1)
        .map(|chunk| {
            let (loc, rest) = chunk.split_once("</loc>").unwrap();
            let lastmod = rest.split_once("<lastmod>").and_then(|(_, l)| l.split_once("</lastmod>")).map(|(l, _)| l);
            (loc.replace("&amp;", "&"), lastmod.map(str::to_owned))
        })
        .collect()
}

async fn the_sitemap_lists_published_pages_and_dates_terms_by_their_newest_article(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("FRONTEND_PAGE_URL", "https://news.example/p/{slug}")]).await
    else {
        return;
    };
    let editor = app.token_for("editor").await;
    let admin = app.token_for("admin").await;
    for (title, status) in [("About us", "published"), ("Secret plans", "draft")] {
        let res = app.authed("POST", "/api/v1/pages", &editor, Some(&json!({"title": title, "status": status}))).await;
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    }
    let cat = app.authed("POST", "/api/v1/categories", &admin, Some(&json!({"name": "Council"}))).await.json();
    let unused = app.authed("POST", "/api/v1/tags", &admin, Some(&json!({"name": "Unused"}))).await;
    assert_eq!(unused.status.as_u16(), 201, "{}", String::from_utf8_lossy(&unused.body));
    // The article's dates fall a second or more after the category's own.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (article, _) = app
        .create_article(
            &editor,
            json!({"title": "Budget passes", "body": "x", "status": "published", "categories": [cat["data"]["id"]]}),
        )
        .await;

    let index = app.get("/sitemap.xml").await;
    let pages = app.get("/sitemaps/pages-1.xml").await;
    let articles = app.get("/sitemaps/articles-1.xml").await;
    let categories = app.get("/sitemaps/categories-1.xml").await;
    let authors = app.get("/sitemaps/authors-1.xml").await;
    let tags = app.get("/sitemaps/tags-1.xml").await;

    assert_well_formed(&index.body, "sitemapindex");
    let files = entries(&index.body);
    assert!(files.iter().any(|(l, _)| l.ends_with("/sitemaps/pages-1.xml")), "{files:?}");
    assert!(files.iter().all(|(_, m)| m.is_some()), "every file in the index has a lastmod: {files:?}");
    assert_eq!(pages.status.as_u16(), 200);
    assert_well_formed(&pages.body, "urlset");
    let page_urls = entries(&pages.body);
    assert_eq!(page_urls.len(), 1, "the draft page is absent: {page_urls:?}");
    assert_eq!(page_urls[0].0, "https://news.example/p/about-us");
    assert!(page_urls[0].1.is_some(), "pages have a lastmod");
    let article_lastmod = entries(&articles.body)[0].1.clone().expect("article lastmod");
    let cat_entries = entries(&categories.body);
    assert_eq!(cat_entries.len(), 1);
    assert!(cat_entries[0].0.ends_with("/categories/council"), "{cat_entries:?}");
    assert_eq!(
        cat_entries[0].1.as_deref(),
        Some(article_lastmod.as_str()),
        "a category's lastmod is its newest article's (later than its own updated_at)"
    );
    let author_entries = entries(&authors.body);
    assert_eq!(author_entries.len(), 1, "{author_entries:?}");
    assert_eq!(author_entries[0].1.as_deref(), Some(article_lastmod.as_str()));
    tags.assert_problem(404);
    assert!(article["id"].is_i64());
}
