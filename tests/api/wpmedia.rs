//! `broadsheet import wordpress --media download` (issue 15 §2): attachments
//! fetched from an HTTP server on loopback into the media store, bodies
//! pointed at the hosted copies, resumed runs, per-file failures; and WXR 1.2
//! `wp:term` entries.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broadsheet::db::schema::*;
use broadsheet::import::attachments::Downloader;
use broadsheet::import::wordpress::{self, MediaOptions};
use broadsheet::import::{Options, Summary};
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{backend_tests, Backend, TestApp, TestDb};

backend_tests!(
    attachments_are_downloaded_with_variants_and_bodies_point_at_them,
    a_second_run_downloads_nothing_new,
    failed_downloads_are_warnings_and_leave_nothing_behind,
    the_fixture_imports_with_its_media_from_a_loopback_server,
    wp_terms_import_categories_and_tags_and_count_the_rest,
);

/// A tiny HTTP/1.1 server on loopback, one thread per connection, serving
/// `files` by path, plus the misbehaving paths under `/bad/`. Records every
/// path requested.
struct Origin {
    base: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Origin {
    fn start(files: HashMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let (files, seen) = (Arc::new(files), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (files, seen) = (files.clone(), seen.clone());
                std::thread::spawn(move || {
                    let _ = respond(stream, &files, &seen);
                });
            }
        });
        Self { base, hits }
    }

    fn hits(&self) -> usize {
        self.hits.lock().unwrap().len()
    }
}

fn respond(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>, hits: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    hits.lock().unwrap().push(path.clone());
    let head = |status: &str, extra: &str| format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n");
    match path.as_str() {
        "/bad/page.jpg" => {
            let body = "<!doctype html><html><body>Not found, but 200</body></html>";
            let h = head("200 OK", &format!("Content-Type: text/html\r\nContent-Length: {}\r\n", body.len()));
            stream.write_all(format!("{h}{body}").as_bytes())
        }
        "/bad/huge.jpg" => {
            stream
                .write_all(head("200 OK", "Content-Type: image/jpeg\r\nContent-Length: 2147483648\r\n").as_bytes())?;
            let chunk = vec![0u8; 64 * 1024];
            loop {
                stream.write_all(&chunk)?;
            }
        }
        "/bad/endless.jpg" => {
            // No length: only the cap counted while streaming stops it.
            stream.write_all(head("200 OK", "Content-Type: image/jpeg\r\n").as_bytes())?;
            let mut chunk = vec![0u8; 64 * 1024];
            chunk[..3].copy_from_slice(&[0xff, 0xd8, 0xff]);
            loop {
                stream.write_all(&chunk)?;
            }
        }
        "/bad/loop-a.jpg" => stream.write_all(head("302 Found", "Location: /bad/loop-b.jpg\r\n").as_bytes()),
        "/bad/loop-b.jpg" => stream.write_all(head("302 Found", "Location: /bad/loop-a.jpg\r\n").as_bytes()),
        "/bad/slow.jpg" => {
            std::thread::sleep(Duration::from_secs(6));
            stream.write_all(head("200 OK", "Content-Length: 0\r\n").as_bytes())
        }
        _ => match files.get(&path) {
            Some(bytes) => {
                stream.write_all(head("200 OK", &format!("Content-Length: {}\r\n", bytes.len())).as_bytes())?;
                stream.write_all(bytes)
            }
            None => stream.write_all(head("404 Not Found", "Content-Length: 0\r\n").as_bytes()),
        },
    }?;
    // Drain what the client may still send, so closing does not reset.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.read(&mut [0u8; 64]);
    Ok(())
}

/// A `w`×`h` image in `format`, its pixels seeded by `seed` (distinct files).
fn image(w: u32, h: u32, seed: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 + seed * 31) as u8, (y * 5 + seed * 17) as u8, ((x + y) * 3 + seed) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A server with media in a local directory the import writes to as well,
/// files up to 1 MiB.
async fn app_with_store(backend: Backend) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = url::Url::from_directory_path(dir.path()).unwrap().to_string();
    let app = TestApp::spawn_with(backend, &[("MEDIA_STORE_URL", &url), ("MEDIA_MAX_BYTES", "1048576")]).await?;
    Some((app, dir))
}

fn media_options(app: &TestApp, allow_loopback: bool) -> MediaOptions {
    let state = broadsheet::media::MediaState::from_settings(&app.settings).unwrap();
    let mut d = Downloader::new(state, allow_loopback);
    d.connect_timeout = Duration::from_secs(2);
    d.timeout = Duration::from_secs(2);
    MediaOptions { base_url: app.settings.public_base_url.clone(), download: Some(d) }
}

fn import(app: &TestApp, xml: &str, media: &MediaOptions) -> Summary {
    wordpress::import_with_media(
        &app.db.pool,
        xml.as_bytes(),
        Options::default(),
        media,
        &mut broadsheet::import::NoProgress,
    )
    .expect("import succeeds")
}

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://example.test</wp:base_blog_url>
"#;

fn attachment(id: u32, url: &str) -> String {
    format!(
        "<item><title>File {id}</title><wp:post_id>{id}</wp:post_id><wp:post_type>attachment</wp:post_type>\
         <wp:status>inherit</wp:status><wp:attachment_url>{url}</wp:attachment_url>\
         <wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key><wp:meta_value>Alt {id}</wp:meta_value></wp:postmeta></item>"
    )
}

fn post(id: u32, body: &str, thumbnail: Option<u32>) -> String {
    let thumb = thumbnail
        .map(|t| {
            format!(
                "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>{t}</wp:meta_value></wp:postmeta>"
            )
        })
        .unwrap_or_default();
    format!(
        "<item><title>Post {id}</title><dc:creator>ed</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>\
         <wp:post_id>{id}</wp:post_id><wp:post_date_gmt>2012-01-01 10:00:00</wp:post_date_gmt>\
         <wp:post_name>post-{id}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>{thumb}</item>"
    )
}

/// An export with one photo (attachment 10) used in a post's body and as
/// its featured image, served by `origin`.
fn photo_export(origin: &Origin) -> String {
    let url = format!("{}/uploads/2012/01/photo.jpg", origin.base);
    let body = format!(
        r#"<p><a href="{url}"><img src="{b}/uploads/2012/01/photo-300x200.jpg" srcset="{b}/uploads/2012/01/photo-600x400.jpg 600w, {url} 700w" alt=""></a></p>"#,
        b = origin.base
    );
    format!("{HEAD}{}{}</channel></rss>", attachment(10, &url), post(7, &body, Some(10)))
}

fn photo_origin() -> Origin {
    let files =
        HashMap::from([("/uploads/2012/01/photo.jpg".to_owned(), image(700, 500, 1, image::ImageFormat::Jpeg))]);
    Origin::start(files)
}

async fn attachments_are_downloaded_with_variants_and_bodies_point_at_them(backend: Backend) {
    let Some((app, _dir)) = app_with_store(backend).await else { return };
    let origin = photo_origin();

    let summary = import(&app, &photo_export(&origin), &media_options(&app, true));

    assert_eq!(summary.created.get("media files"), Some(&1), "{summary}");
    assert_eq!(summary.created.get("media"), Some(&1), "the record is new, not updated: {summary}");
    assert!(!summary.updated.contains_key("media"), "{summary}");
    assert!(summary.warnings.is_empty(), "{summary}");
    let media_id: i64 = media::table.select(media::id).first(&mut *app.db.conn()).unwrap();
    let m = app.get_ok(&format!("/api/v1/media/{media_id}")).await;
    let file = format!("http://broadsheet.test/api/v1/media/{media_id}/file");
    assert_eq!(m["data"]["hosted"], true, "{m}");
    assert_eq!(m["data"]["url"], file.as_str(), "{m}");
    assert_eq!((m["data"]["width"].as_i64(), m["data"]["height"].as_i64()), (Some(700), Some(500)), "{m}");
    assert_eq!(m["data"]["mime_type"], "image/jpeg", "{m}");
    assert_eq!(m["data"]["alt_text"], "Alt 10", "the export's metadata is kept: {m}");
    let sizes: Vec<&str> = m["data"]["sizes"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(sizes.contains(&"w320") && sizes.contains(&"w640"), "{m}");
    for path in [format!("/api/v1/media/{media_id}/file"), format!("/api/v1/media/{media_id}/file/w320")] {
        let r = app.get(&path).await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert_eq!(r.content_type(), "image/jpeg", "{path}");
        assert_eq!(&r.body[..3], &[0xff, 0xd8, 0xff], "{path} is a JPEG");
    }
    let article_id: i64 = articles::table.select(articles::id).first(&mut *app.db.conn()).unwrap();
    let a = app.get_ok(&format!("/api/v1/articles/{article_id}")).await;
    let html = a["data"]["body_html"].as_str().unwrap();
    assert!(html.contains(&format!(r#"src="{file}/w320""#)), "the 300 px copy maps to w320: {html}");
    assert!(html.contains(&format!(r#"href="{file}""#)), "the link to the file: {html}");
    assert!(!html.contains(&origin.base), "no URL of the old host is left: {html}");
    let source: String = articles::table.select(articles::body_source).first(&mut *app.db.conn()).unwrap();
    assert!(source.contains(&format!("{file}/w640 600w, {file} 700w")), "srcset is rewritten: {source}");
    assert_eq!(a["data"]["featured_media"]["id"], media_id, "{a}");
    assert_eq!(a["data"]["featured_media"]["url"], file.as_str(), "{a}");
}

async fn a_second_run_downloads_nothing_new(backend: Backend) {
    let Some((app, _dir)) = app_with_store(backend).await else { return };
    let origin = photo_origin();
    let options = media_options(&app, true);
    let xml = photo_export(&origin);
    import(&app, &xml, &options);
    let hits = origin.hits();

    let again = import(&app, &xml, &options);

    assert_eq!(origin.hits(), hits, "nothing was fetched again");
    assert!(!again.created.contains_key("media files"), "{again}");
    assert_eq!(again.unchanged.get("media files"), Some(&1), "{again}");
    assert_eq!(again.unchanged.get("articles"), Some(&1), "the rewritten body is the same: {again}");
    let hosted: i64 =
        media::table.filter(media::storage_key.is_not_null()).count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(hosted, 1);
    // An import without downloads keeps bodies on the hosted copy.
    let link = MediaOptions { base_url: app.settings.public_base_url.clone(), download: None };
    let linked = import(&app, &xml, &link);
    assert_eq!(linked.unchanged.get("articles"), Some(&1), "{linked}");
    let m: (Option<String>, String) =
        media::table.select((media::mime_type, media::kind)).first(&mut *app.db.conn()).unwrap();
    assert_eq!(m, (Some("image/jpeg".into()), "image".into()));
}

async fn failed_downloads_are_warnings_and_leave_nothing_behind(backend: Backend) {
    let Some((app, dir)) = app_with_store(backend).await else { return };
    let origin = photo_origin();
    let bad = [
        (21, "/bad/page.jpg", "text/html"),
        (22, "/bad/huge.jpg", "declares 2147483648 bytes"),
        (23, "/bad/endless.jpg", "over the 1048576-byte limit"),
        (24, "/bad/loop-a.jpg", "redirect"),
        (25, "/bad/slow.jpg", "timed out"),
        (26, "/bad/missing.jpg", "404"),
    ];
    let good = attachment(10, &format!("{}/uploads/2012/01/photo.jpg", origin.base));
    let items: String = bad.iter().map(|(id, path, _)| attachment(*id, &format!("{}{path}", origin.base))).collect();
    let xml = format!("{HEAD}{items}{good}{}</channel></rss>", post(7, "<p>Text</p>", Some(21)));

    let started = std::time::Instant::now();
    let summary = import(&app, &xml, &media_options(&app, true));

    assert!(started.elapsed() < Duration::from_secs(30), "downloads run concurrently with timeouts");
    assert_eq!(summary.created.get("media files"), Some(&1), "the good file still lands: {summary}");
    assert_eq!(summary.skipped.get("media downloads that failed"), Some(&6), "{summary}");
    for (id, path, why) in bad {
        let w = summary
            .warnings
            .iter()
            .find(|w| w.contains(path))
            .unwrap_or_else(|| panic!("no warning for {path}: {summary}"));
        assert!(w.contains(&format!("attachment {id}")) && w.contains(why), "{path}: expected `{why}` in `{w}`");
    }
    assert_eq!(summary.created.get("articles"), Some(&1), "the import went on: {summary}");
    assert_eq!(summary.created.get("media"), Some(&7), "{summary}");
    let records: i64 = media::table.count().get_result(&mut *app.db.conn()).unwrap();
    assert_eq!(records, 7, "every attachment still has its record");
    let hosted: Vec<String> = media::table
        .filter(media::storage_key.is_not_null())
        .select(media::import_key.assume_not_null())
        .load(&mut *app.db.conn())
        .unwrap();
    assert_eq!(hosted, vec!["10".to_owned()], "only the good file is hosted");
    // The store holds exactly the good file's objects: nothing half-written.
    let mut stored = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                stored.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    stored.sort();
    assert_eq!(stored, ["original.jpg", "w320.jpg", "w640.jpg"], "{stored:?}");
    let failed: (Option<String>, Option<String>) = media::table
        .filter(media::import_key.eq("21"))
        .select((media::source_url, media::sha256))
        .first(&mut *app.db.conn())
        .unwrap();
    assert_eq!(failed, (Some(format!("{}/bad/page.jpg", origin.base)), None), "a failed file keeps its old URL");
    // A second run retries only the failures.
    let before = origin.hits();
    let again = import(&app, &xml, &media_options(&app, true));
    let fetched: Vec<String> = origin.hits.lock().unwrap()[before..].to_vec();
    assert!(!fetched.iter().any(|p| p.starts_with("/uploads/")), "the hosted file is not fetched again: {fetched:?}");
    assert_eq!(again.skipped.get("media downloads that failed"), Some(&6), "{again}");
}

async fn the_fixture_imports_with_its_media_from_a_loopback_server(backend: Backend) {
    let Some((app, _dir)) = app_with_store(backend).await else { return };
    let xml = std::fs::read_to_string(crate::helpers::fixture()).unwrap();
    let urls: Vec<String> = xml
        .split("<wp:attachment_url>")
        .skip(1)
        .filter_map(|s| s.split("</wp:attachment_url>").next())
        .map(|s| s.trim_start_matches("<![CDATA[").trim_end_matches("]]>").to_owned())
        .collect();
    assert_eq!(urls.len(), 37);
    let mut files = HashMap::new();
    for (i, u) in urls.iter().enumerate() {
        let path = url::Url::parse(u).unwrap().path().to_owned();
        let format = match path.rsplit('.').next() {
            Some("jpg") => image::ImageFormat::Jpeg,
            Some("gif") => image::ImageFormat::Gif,
            // The .mov and .mp3 are left out: they are 404s here.
            _ => continue,
        };
        files.insert(path, image(360, 240, i as u32, format));
    }
    let origin = Origin::start(files);
    let mut options = media_options(&app, true);
    options.download.as_mut().unwrap().origin = Some(url::Url::parse(&origin.base).unwrap());

    let summary = import(&app, &xml, &options);

    assert_eq!(summary.created.get("media files"), Some(&35), "{summary}");
    assert_eq!(summary.created.get("media"), Some(&37), "{summary}");
    assert!(summary.updated.is_empty(), "{summary}");
    assert_eq!(summary.skipped.get("media downloads that failed"), Some(&2), "{summary}");
    assert!(summary.warnings.iter().any(|w| w.contains(".mov") && w.contains("404")), "{summary}");
    assert_eq!(summary.created.get("articles"), Some(&58), "{summary}");
    assert!(summary.created.get("pages").is_some_and(|n| *n > 0), "{summary}");
    assert!(summary.skipped.get("wp:term entries of taxonomy `nav_menu`").is_some_and(|n| *n > 0), "{summary}");
    // Photos are served with variants from here.
    let (id, variants): (i64, String) = media::table
        .filter(media::source_url.like("%/dsc20050727_091048_222.jpg"))
        .select((media::id, media::variants))
        .first(&mut *app.db.conn())
        .unwrap();
    assert!(variants.contains("w320"), "{variants}");
    let r = app.get(&format!("/api/v1/media/{id}/file/w320")).await;
    assert_eq!((r.status.as_u16(), r.content_type()), (200, "image/jpeg"));
    // Bodies point at them.
    let body: String = articles::table
        .filter(
            articles::body_source
                .like("%dsc20050727_091048_222%")
                .or(articles::body_source.like(&format!("%/media/{id}/file%"))),
        )
        .select(articles::body_source)
        .first(&mut *app.db.conn())
        .unwrap();
    assert!(body.contains(&format!("/api/v1/media/{id}/file")), "{body}");
    assert!(!body.contains("wpthemetestdata.files.wordpress.com/2008/06/dsc20050727_091048_222.jpg"), "{body}");
    let pages = app.get_ok("/api/v1/pages").await;
    assert!(pages["data"].as_array().is_some_and(|p| !p.is_empty()), "{pages}");
    // An edit made after the import survives a second import, which fetches nothing new.
    let editor = app.token_for("editor").await;
    let article: i64 = articles::table.select(articles::id).order(articles::id).first(&mut *app.db.conn()).unwrap();
    let path = format!("/api/v1/articles/{article}");
    let (_, etag) = app.get_ok_as(&path, &editor).await;
    let edited =
        app.authed_with("PATCH", &path, &editor, &[("if-match", &etag)], Some(&json!({"title": "Edited here"}))).await;
    assert_eq!(edited.status.as_u16(), 200, "{}", String::from_utf8_lossy(&edited.body));
    let hits = origin.hits();
    let again = import(&app, &xml, &options);
    assert_eq!(again.conflicts.len(), 1, "{again}");
    assert_eq!(again.unchanged.get("media files"), Some(&35), "{again}");
    assert_eq!(origin.hits() - hits, 2, "only the two missing files are asked for again");
    let (now, _) = app.get_ok_as(&path, &editor).await;
    assert_eq!(now["data"]["title"], "Edited here");
}

/// (id, slug, name, description, parent id).
type Category = (i64, String, String, Option<String>, Option<i64>);

async fn wp_terms_import_categories_and_tags_and_count_the_rest(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let terms = r#"
<wp:term><wp:term_id>1</wp:term_id><wp:term_taxonomy>category</wp:term_taxonomy><wp:term_slug>world</wp:term_slug><wp:term_name><![CDATA[World]]></wp:term_name><wp:term_description>News from abroad</wp:term_description></wp:term>
<wp:term><wp:term_taxonomy>category</wp:term_taxonomy><wp:term_slug>europe</wp:term_slug><wp:term_parent>world</wp:term_parent><wp:term_name>Europe</wp:term_name></wp:term>
<wp:term><wp:term_taxonomy>category</wp:term_taxonomy><wp:term_name>No Slug Given</wp:term_name></wp:term>
<wp:term><wp:term_taxonomy>post_tag</wp:term_taxonomy><wp:term_slug>budget</wp:term_slug><wp:term_name>Budget</wp:term_name></wp:term>
<wp:term><wp:term_taxonomy>nav_menu</wp:term_taxonomy><wp:term_slug>main</wp:term_slug><wp:term_name>Main</wp:term_name></wp:term>
<wp:term><wp:term_taxonomy>nav_menu</wp:term_taxonomy><wp:term_slug>footer</wp:term_slug><wp:term_name>Footer</wp:term_name></wp:term>
<wp:term><wp:term_taxonomy>genre</wp:term_taxonomy><wp:term_slug>noir</wp:term_slug><wp:term_name>Noir</wp:term_name></wp:term>
<wp:term><wp:term_slug>lost</wp:term_slug></wp:term>
<wp:term><wp:term_taxonomy>post_tag</wp:term_taxonomy><wp:term_slug>budget</wp:term_slug><wp:term_name>Budget</wp:term_name></wp:term>
"#;
    let xml = format!(
        "{HEAD}<wp:author><wp:author_login>ed</wp:author_login></wp:author>{terms}{}</channel></rss>",
        post(7, "<p>Text</p>", None).replace(
            "<wp:post_type>",
            r#"<category domain="category" nicename="europe">Europe</category><category domain="post_tag" nicename="budget">Budget</category><wp:post_type>"#
        )
    );

    let summary = wordpress::import(&mut db.conn(), xml.as_bytes(), false).unwrap();
    let again = wordpress::import(&mut db.conn(), xml.as_bytes(), false).unwrap();

    assert_eq!(summary.created.get("categories"), Some(&3), "{summary}");
    assert_eq!(summary.created.get("tags"), Some(&1), "{summary}");
    assert_eq!(summary.skipped.get("wp:term entries of taxonomy `nav_menu`"), Some(&2), "{summary}");
    assert_eq!(summary.skipped.get("wp:term entries of taxonomy `genre`"), Some(&1), "{summary}");
    assert_eq!(summary.skipped.get("wp:term entries of taxonomy `no`"), Some(&1), "{summary}");
    assert_eq!(summary.skipped.get("wp:term entries repeating a wp:category or wp:tag"), Some(&1), "{summary}");
    assert!(summary.updated.is_empty(), "a repeated term is not written twice: {summary}");
    assert!(summary.warnings.is_empty(), "declared terms need no warning: {summary}");
    assert!(!again.created.contains_key("categories"), "a re-import updates: {again}");
    let c = &mut *db.conn();
    let cats: Vec<Category> = categories::table
        .select((categories::id, categories::slug, categories::name, categories::description, categories::parent_id))
        .order(categories::id)
        .load(c)
        .unwrap();
    assert_eq!(cats.len(), 3, "{cats:?}");
    assert_eq!((cats[0].1.as_str(), cats[0].3.as_deref()), ("world", Some("News from abroad")));
    assert_eq!((cats[1].1.as_str(), cats[1].4), ("europe", Some(cats[0].0)), "parent by slug");
    assert_eq!((cats[2].1.as_str(), cats[2].2.as_str()), ("no-slug-given", "No Slug Given"));
    let filed: i64 =
        article_categories::table.filter(article_categories::category_id.eq(cats[1].0)).count().get_result(c).unwrap();
    assert_eq!(filed, 1, "the post is filed under the wp:term category");
    let tags: Vec<String> = tags::table.select(tags::slug).load(c).unwrap();
    assert_eq!(tags, ["budget"]);
}

#[test]
fn the_cli_downloads_from_loopback_only_when_the_setting_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let origin = photo_origin();
    let export = dir.path().join("export.xml");
    std::fs::write(&export, photo_export(&origin)).unwrap();
    let store = dir.path().join("media");
    let run = |allow: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
            .args(["import", "wordpress", "--media", "download", "--media-timeout", "5"])
            .arg(&export)
            .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("cli.db").display()))
            .env("MEDIA_STORE_URL", url::Url::from_directory_path(&store).unwrap().to_string())
            .env("PUBLIC_BASE_URL", "https://news.test")
            .env("IMPORT_ALLOW_LOOPBACK", allow)
            .current_dir(dir.path())
            .output()
            .expect("runs")
    };

    let refused = run("false");
    let allowed = run("true");

    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(refused.status.success(), "a refused download does not fail the import: {}", out(&refused));
    assert!(out(&refused).contains("not downloaded") && out(&refused).contains("loopback"), "{}", out(&refused));
    assert_eq!(origin.hits(), 1, "only the allowed run reached the server");
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stderr));
    assert!(out(&allowed).contains("created: 1 media files"), "{}", out(&allowed));
    assert!(out(&allowed).contains("updated: 1 articles"), "the body now points here: {}", out(&allowed));
    let db = TestDb::sqlite_at(dir.path().join("cli.db"));
    let body: String = articles::table.select(articles::body_html).first(&mut *db.conn()).unwrap();
    assert!(body.contains("https://news.test/api/v1/media/1/file/w320"), "{body}");
}
