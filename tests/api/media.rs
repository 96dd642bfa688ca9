//! Media library: uploads, hostile files, variants, serving, deleting, and the
//! local, in-memory and S3 stores.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{Backend, Response, TestApp};

crate::helpers::backend_tests!(
    an_editor_uploads_a_jpeg_uses_it_as_featured_image_and_a_front_end_fetches_the_640_variant,
    png_and_webp_round_trip_with_dimensions_and_variants,
    exif_orientation_is_applied_and_variants_carry_no_metadata,
    hostile_files_are_refused_with_problems_and_leave_nothing_on_disk,
    an_upload_over_the_byte_limit_is_refused_while_streaming,
    uploads_need_an_author_and_only_editors_touch_other_peoples_files,
    a_file_in_use_is_not_deleted_unless_forced_and_its_objects_go_after_commit,
    concurrent_uploads_of_the_same_bytes_share_one_stored_object,
    the_library_lists_with_filters_and_patch_validates,
    imported_media_is_not_hosted_and_says_so,
    the_s3_store_serves_uploads_and_signed_redirects,
    the_allow_list_is_configurable_and_svg_when_enabled_cannot_run_script,
    a_stalled_upload_is_dropped_with_408,
    a_failed_store_write_leaves_no_objects_and_no_row,
    one_caller_cannot_hold_every_upload_slot,
);

pub(crate) const BOUNDARY: &str = "broadsheet-test-boundary-7MA4YWxkTrZu0gW";

/// One multipart part: `(name, file name, content type, bytes)`.
pub(crate) type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart body of `parts`.
pub(crate) fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, ct, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n").as_bytes(),
            ),
            None => out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes()),
        }
        if let Some(ct) = ct {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn image_bytes(w: u32, h: u32, format: image::ImageFormat, alpha: bool) -> Vec<u8> {
    let img = if alpha {
        image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, if x < w / 2 { 255 } else { 40 }])
        }))
    } else {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }))
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, format).expect("encode test image");
    buf.into_inner()
}

pub(crate) fn jpeg(w: u32, h: u32) -> Vec<u8> {
    image_bytes(w, h, image::ImageFormat::Jpeg, false)
}

pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    image_bytes(w, h, image::ImageFormat::Png, false)
}

/// A JPEG with an EXIF APP1 segment: orientation 6 (rotate 90° clockwise)
/// and a camera-make string that must not survive into variants.
fn jpeg_with_exif_orientation_6(w: u32, h: u32) -> Vec<u8> {
    let plain = jpeg(w, h);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes()); // two entries
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&6u16.to_le_bytes());
    tiff.extend_from_slice(&0u16.to_le_bytes());
    let make = b"SECRETCAM\0";
    tiff.extend_from_slice(&0x010fu16.to_le_bytes()); // Make
    tiff.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    tiff.extend_from_slice(&(make.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&(8 + 2 + 24 + 4u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(make);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn upload(app: &TestApp, token: &str, body: Vec<u8>) -> Response {
    let auth = format!("Bearer {token}");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    app.send_bytes("POST", "/api/v1/media", &[("authorization", &auth), ("content-type", &ct)], body).await
}

async fn upload_ok(app: &TestApp, token: &str, file_name: &str, ct: &str, bytes: &[u8]) -> Value {
    let res = upload(app, token, multipart(&[("file", Some(file_name), Some(ct), bytes)])).await;
    assert_eq!(res.status.as_u16(), 201, "upload {file_name}: {}", String::from_utf8_lossy(&res.body));
    res.json()["data"].clone()
}

/// The path part of an absolute URL built on `http://broadsheet.test`.
fn path_of(url: &str) -> String {
    url.strip_prefix("http://broadsheet.test").unwrap_or_else(|| panic!("not our URL: {url}")).to_owned()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A server whose media store is a fresh local directory.
async fn with_local_store(backend: Backend, extra: &[(&str, &str)]) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = url::Url::from_directory_path(dir.path()).unwrap().to_string();
    let mut vars = vec![("MEDIA_STORE_URL", url.as_str())];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(backend, &vars).await?;
    Some((app, dir))
}

async fn an_editor_uploads_a_jpeg_uses_it_as_featured_image_and_a_front_end_fetches_the_640_variant(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[]).await else { return };
    let editor = app.token_for("editor").await;
    let original = jpeg(1500, 1000);

    let res = upload(
        &app,
        &editor,
        multipart(&[
            ("file", Some("council.jpg"), Some("image/jpeg"), &original),
            ("alt_text", None, None, b"Councillors around a horseshoe table"),
            ("caption", None, None, b"The council votes on the budget."),
            ("credit", None, None, b"Jane Doe / Reuters"),
            ("title", None, None, b"Council chamber"),
        ]),
    )
    .await;

    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let media = res.json()["data"].clone();
    let id = media["id"].as_i64().unwrap();
    assert_eq!(res.header("location"), Some(format!("http://broadsheet.test/api/v1/media/{id}").as_str()));
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(1500), Some(1000)));
    assert_eq!(media["mime_type"], "image/jpeg");
    assert_eq!(media["media_type"], "image");
    assert_eq!(media["hosted"], true);
    assert_eq!(media["byte_size"].as_u64(), Some(original.len() as u64));
    assert_eq!(media["alt_text"], "Councillors around a horseshoe table");
    assert_eq!(media["credit"], "Jane Doe / Reuters");
    let names: Vec<&str> = media["sizes"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["w320", "w640", "w1280", "original"]);
    let stored = files_under(dir.path());
    assert_eq!(stored.len(), 4, "original + 3 variants on disk: {stored:?}");
    let sha = media["sha256"].as_str().unwrap();
    assert!(stored.iter().all(|p| p.to_string_lossy().contains(sha)), "stored by content hash: {stored:?}");

    // Featured image of an article.
    let (article, _) = app
        .create_article(&editor, json!({"title": "Budget passes", "status": "published", "featured_media_id": id}))
        .await;
    let public = app.get_ok(&format!("/api/v1/articles/{}", article["id"])).await;
    let featured = &public["data"]["featured_media"];
    assert_eq!(featured["id"], id);
    assert_eq!(featured["alt_text"], "Councillors around a horseshoe table");
    assert_eq!(featured["caption"], "The council votes on the budget.");
    assert_eq!(featured["credit"], "Jane Doe / Reuters");
    assert_eq!(featured["hosted"], true);
    let w640 = featured["sizes"].as_array().unwrap().iter().find(|s| s["name"] == "w640").unwrap().clone();
    assert_eq!((w640["width"].as_i64(), w640["height"].as_i64()), (Some(640), Some(427)));

    // A front end fetches the 640 px variant.
    let res = app.get(&path_of(w640["url"].as_str().unwrap())).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.content_type(), "image/jpeg");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(res.header("content-disposition").unwrap().starts_with("inline"));
    assert!(res.header("content-security-policy").unwrap().contains("sandbox"));
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.body.len() as i64, w640["byte_size"].as_i64().unwrap());
    let decoded = image::load_from_memory(&res.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (640, 427));
    let etag = res.header("etag").unwrap().to_owned();

    // Conditional and ranged requests.
    let not_modified =
        app.send("GET", &path_of(w640["url"].as_str().unwrap()), &[("if-none-match", &etag)], None).await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert!(not_modified.body.is_empty());
    let file = format!("/api/v1/media/{id}/file");
    let part = app.send("GET", &file, &[("range", "bytes=10-109")], None).await;
    assert_eq!(part.status.as_u16(), 206);
    assert_eq!(part.header("content-range"), Some(format!("bytes 10-109/{}", original.len()).as_str()));
    assert_eq!(part.body, original[10..110]);
    let suffix = app.send("GET", &file, &[("range", "bytes=-50")], None).await;
    assert_eq!(suffix.status.as_u16(), 206);
    assert_eq!(suffix.body, original[original.len() - 50..]);
    let stale_if_range = app.send("GET", &file, &[("range", "bytes=0-9"), ("if-range", "\"other\"")], None).await;
    assert_eq!(stale_if_range.status.as_u16(), 200, "If-Range mismatch sends the whole file");
    assert_eq!(stale_if_range.body, original);
    let outside = app.send("GET", &file, &[("range", "bytes=99999999-")], None).await;
    outside.assert_problem(416);
    assert_eq!(outside.header("content-range"), Some(format!("bytes */{}", original.len()).as_str()));
    let head = app.send("HEAD", &file, &[], None).await;
    assert_eq!(head.status.as_u16(), 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some(original.len().to_string().as_str()), "HEAD has GET's length");
    app.get(&format!("/api/v1/media/{id}/file/w9999")).await.assert_problem(404);
    let named = app.get(&format!("/api/v1/media/{id}/file/original")).await;
    assert_eq!(named.body, original, "`original` from sizes serves the original");
}

async fn png_and_webp_round_trip_with_dimensions_and_variants(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;

    let transparent = image_bytes(900, 300, image::ImageFormat::Png, true);
    let media = upload_ok(&app, &author, "logo.png", "image/png", &transparent).await;
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(900), Some(300)));
    let sizes = media["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 3, "w320, w640, original: {sizes:?}");
    assert_eq!(sizes[0]["mime_type"], "image/png", "transparency keeps PNG");
    let res = app.get(&path_of(sizes[1]["url"].as_str().unwrap())).await;
    assert_eq!(res.content_type(), "image/png");
    let decoded = image::load_from_memory(&res.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (640, 213));
    assert!(decoded.color().has_alpha());

    let webp = image_bytes(700, 700, image::ImageFormat::WebP, false);
    let media = upload_ok(&app, &author, "square.webp", "image/webp", &webp).await;
    assert_eq!(media["mime_type"], "image/webp");
    let names: Vec<&str> = media["sizes"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["w320", "w640", "original"]);
    let original = app.get(&format!("/api/v1/media/{}/file", media["id"])).await;
    assert_eq!(original.content_type(), "image/webp");
    assert_eq!(original.body, webp);

    let small = upload_ok(&app, &author, "tiny.png", "image/png", &png(200, 100)).await;
    let names: Vec<&str> = small["sizes"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["original"], "never upscaled");
}

async fn exif_orientation_is_applied_and_variants_carry_no_metadata(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let author = app.token_for("author").await;
    let bytes = jpeg_with_exif_orientation_6(1000, 700);
    assert!(bytes.windows(9).any(|w| w == b"SECRETCAM"));

    let media = upload_ok(&app, &author, "portrait.jpg", "image/jpeg", &bytes).await;

    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(700), Some(1000)), "rotated 90°");
    let w320 = &media["sizes"][0];
    assert_eq!((w320["width"].as_i64(), w320["height"].as_i64()), (Some(320), Some(457)));
    let res = app.get(&path_of(w320["url"].as_str().unwrap())).await;
    let decoded = image::load_from_memory(&res.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 457));
    assert!(!res.body.windows(4).any(|w| w == b"Exif"), "variant has no EXIF");
    assert!(!res.body.windows(9).any(|w| w == b"SECRETCAM"), "camera metadata stripped");

    // The original keeps its pixels and orientation, and loses everything else.
    let original = app.get(&format!("/api/v1/media/{}/file", media["id"])).await;
    assert!(!original.body.windows(9).any(|w| w == b"SECRETCAM"), "original's camera metadata stripped");
    assert_eq!(original.body.len() as i64, media["byte_size"].as_i64().unwrap());
    let mut decoder = image::ImageReader::new(std::io::Cursor::new(&original.body))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    use image::ImageDecoder;
    assert_eq!(decoder.orientation().unwrap(), image::metadata::Orientation::Rotate90, "orientation kept");
    assert_eq!(decoder.dimensions(), (1000, 700), "same pixels");
}

async fn hostile_files_are_refused_with_problems_and_leave_nothing_on_disk(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[]).await else { return };
    let author = app.token_for("author").await;
    let png_bytes = png(64, 64);
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec();
    let svg =
        br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let mut png_polyglot = png_bytes.clone();
    png_polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let gif_js = b"GIF89a/*\x0a\x00\x00\x00\x00*/=alert(document.domain);//".to_vec();
    // A valid PNG whose header declares 100000 x 100000 pixels.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".repeat(8);

    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        (
            "a PNG renamed .jpg",
            multipart(&[("file", Some("photo.jpg"), Some("image/jpeg"), &png_bytes)]),
            415,
            "file",
            ".jpg",
        ),
        (
            "a PNG declared as JPEG",
            multipart(&[("file", Some("photo"), Some("image/jpeg"), &png_bytes)]),
            415,
            "file",
            "sent as image/jpeg",
        ),
        (
            "HTML renamed .png",
            multipart(&[("file", Some("cat.png"), Some("image/png"), &html)]),
            415,
            "file",
            "text/html",
        ),
        (
            "an SVG with script",
            multipart(&[("file", Some("chart.svg"), Some("image/svg+xml"), &svg)]),
            415,
            "file",
            "SVG",
        ),
        (
            "a PNG/HTML polyglot",
            multipart(&[("file", Some("poly.png"), Some("image/png"), &png_polyglot)]),
            422,
            "file",
            "polyglot",
        ),
        (
            "a GIF/JavaScript polyglot",
            multipart(&[("file", Some("poly.gif"), Some("image/gif"), &gif_js)]),
            422,
            "file",
            "not a valid",
        ),
        (
            "a pixel bomb",
            multipart(&[("file", Some("bomb.png"), Some("image/png"), &bomb)]),
            422,
            "file",
            "MEDIA_MAX_PIXELS",
        ),
        ("a Windows executable", multipart(&[("file", Some("setup.exe"), None, &exe)]), 415, "file", "not accepted"),
        ("an empty file", multipart(&[("file", Some("empty.png"), Some("image/png"), b"")]), 400, "file", "empty"),
        ("no file part", multipart(&[("alt_text", None, None, b"orphan")]), 400, "file", "required"),
        (
            "an unknown part",
            multipart(&[("file", Some("a.png"), None, &png_bytes), ("owner_id", None, None, b"1")]),
            400,
            "owner_id",
            "not a known field",
        ),
        (
            "a repeated file part",
            multipart(&[("file", Some("a.png"), None, &png_bytes), ("file", Some("b.png"), None, &png_bytes)]),
            400,
            "file",
            "more than once",
        ),
        (
            "an over-long credit",
            multipart(&[("file", Some("a.png"), None, &png_bytes), ("credit", None, None, "x".repeat(301).as_bytes())]),
            400,
            "credit",
            "300",
        ),
        (
            "a NUL in the caption",
            multipart(&[("file", Some("a.png"), None, &png_bytes), ("caption", None, None, b"a\0b")]),
            400,
            "caption",
            "NUL",
        ),
    ];
    for (what, body, status, field, needle) in cases {
        let res = upload(&app, &author, body).await;
        let problem = res.assert_problem(status);
        assert_eq!(problem["errors"][0]["field"], field, "{what}: {problem}");
        let text = problem.to_string();
        assert!(text.contains(needle), "{what}: expected `{needle}` in {text}");
        assert!(files_under(dir.path()).is_empty(), "{what} left files: {:?}", files_under(dir.path()));
    }

    let json_body = app.authed("POST", "/api/v1/media", &author, Some(&json!({"file": "x"}))).await;
    assert_eq!(json_body.assert_problem(415)["errors"][0]["field"], "Content-Type");

    // A path-traversal file name is display metadata only, cleaned.
    let media = upload_ok(&app, &author, "../../../etc/passwd.png", "image/png", &png_bytes).await;
    assert_eq!(media["file_name"], "passwd.png");
    let stored = files_under(dir.path());
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with(dir.path()) && stored[0].to_string_lossy().ends_with("original.png"));
    let count: i64 = {
        use broadsheet::db::schema::media;
        use diesel::prelude::*;
        media::table.count().get_result(&mut *app.db.conn()).unwrap()
    };
    assert_eq!(count, 1, "no rows from refused uploads");
}

async fn an_upload_over_the_byte_limit_is_refused_while_streaming(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[("MEDIA_MAX_BYTES", "4096")]).await else { return };
    let author = app.token_for("author").await;
    let big = vec![0xFFu8; 200_000];

    // With Content-Length: refused before reading.
    let res = upload(&app, &author, multipart(&[("file", Some("big.jpg"), None, &big)])).await;
    assert_eq!(res.assert_problem(413)["errors"][0]["field"], "file");

    // Chunked (no Content-Length): refused as the limit is passed.
    let body = multipart(&[("file", Some("big.jpg"), None, &big)]);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        body.chunks(1024).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    let auth = format!("Bearer {author}");
    let mut res = awc::Client::new()
        .post(format!("{}/api/v1/media", app.address))
        .insert_header(("authorization", auth.as_str()))
        .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
        .send_stream(futures::stream::iter(chunks))
        .await
        .expect("request sent");
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
    let problem: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("4096"), "{problem}");
    assert!(files_under(dir.path()).is_empty());
}

async fn uploads_need_an_author_and_only_editors_touch_other_peoples_files(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let png_bytes = png(50, 50);
    let body = || multipart(&[("file", Some("a.png"), Some("image/png"), &png_bytes)]);
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");

    let anonymous = app.send_bytes("POST", "/api/v1/media", &[("content-type", &ct)], body()).await;
    anonymous.assert_problem(401);
    upload(&app, "not.a.token", body()).await.assert_problem(401);
    let contributor = app.token_for("contributor").await;
    upload(&app, &contributor, body()).await.assert_problem(403);
    let admin = app.token_for("admin").await;
    let key_of = |scopes: Value, kind: &str| {
        let body = json!({"name": "k", "kind": kind, "scopes": scopes});
        let app = &app;
        let admin = admin.clone();
        async move {
            let res = app.authed("POST", "/api/v1/api-keys", &admin, Some(&body)).await;
            res.json()["data"]["key"].as_str().unwrap().to_owned()
        }
    };
    let content_key = key_of(json!([]), "content").await;
    upload(&app, &content_key, body()).await.assert_problem(403);
    let library = app.send("GET", "/api/v1/media", &[("x-api-key", &content_key)], None).await;
    library.assert_problem(403);
    assert_eq!(app.authed("GET", "/api/v1/media", &contributor, None).await.status.as_u16(), 200);
    let wrong_scope = key_of(json!(["authors:write"]), "admin").await;
    upload(&app, &wrong_scope, body()).await.assert_problem(403);
    let media_key = key_of(json!(["media:write"]), "admin").await;
    let by_key = upload(&app, &media_key, body()).await;
    assert_eq!(by_key.status.as_u16(), 201);
    assert!(by_key.json()["data"]["uploaded_by"].is_null());

    let alice = app.token_for("author").await;
    let bob = app.token_for("author").await;
    let editor = app.token_for("editor").await;
    let mine = upload_ok(&app, &alice, "a.png", "image/png", &png_bytes).await;
    let path = format!("/api/v1/media/{}", mine["id"]);
    assert!(mine["uploaded_by"].is_i64());

    let patch = json!({"credit": "Bob"});
    app.authed("PATCH", &path, &bob, Some(&patch)).await.assert_problem(403);
    app.authed("DELETE", &path, &bob, None).await.assert_problem(403);
    app.authed("PATCH", &path, &contributor, Some(&patch)).await.assert_problem(403);
    app.send("PATCH", &path, &[], Some(&patch)).await.assert_problem(401);
    app.send("DELETE", &path, &[], None).await.assert_problem(401);
    let own = app.authed("PATCH", &path, &alice, Some(&json!({"credit": "Alice / Staff"}))).await;
    assert_eq!(own.status.as_u16(), 200);
    assert_eq!(own.json()["data"]["credit"], "Alice / Staff");
    let by_editor = app.authed("PATCH", &path, &editor, Some(&json!({"caption": "Edited"}))).await;
    assert_eq!(by_editor.json()["data"]["caption"], "Edited");
    assert_eq!(by_editor.json()["data"]["credit"], "Alice / Staff", "absent fields untouched");
    assert_eq!(app.authed("DELETE", &path, &editor, None).await.status.as_u16(), 204);
    app.get(&path).await.assert_problem(404);
    app.authed("DELETE", &path, &editor, None).await.assert_problem(404);
}

async fn a_file_in_use_is_not_deleted_unless_forced_and_its_objects_go_after_commit(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[]).await else { return };
    let editor = app.token_for("editor").await;
    let media = upload_ok(&app, &editor, "lead.jpg", "image/jpeg", &jpeg(800, 600)).await;
    let id = media["id"].as_i64().unwrap();
    let (article, _) = app.create_article(&editor, json!({"title": "Lead story", "featured_media_id": id})).await;
    let author_path = "/api/v1/authors/me";
    let avatar = app.authed("PATCH", author_path, &editor, Some(&json!({"avatar_media_id": id}))).await;
    assert_eq!(avatar.status.as_u16(), 200, "{}", String::from_utf8_lossy(&avatar.body));
    let stored = files_under(dir.path()).len();
    assert_eq!(stored, 3, "original + w320 + w640");

    let res = app.authed("DELETE", &format!("/api/v1/media/{id}"), &editor, None).await;

    let problem = res.assert_problem(409);
    assert_eq!(problem["code"], "in_use");
    assert_eq!(problem["references"]["articles"][0]["id"], article["id"]);
    assert_eq!(problem["references"]["authors"].as_array().unwrap().len(), 1);
    assert_eq!(files_under(dir.path()).len(), 3, "nothing removed on 409");
    app.authed("DELETE", &format!("/api/v1/media/{id}?force=maybe"), &editor, None).await.assert_problem(400);

    let forced = app.authed("DELETE", &format!("/api/v1/media/{id}?force=true"), &editor, None).await;
    assert_eq!(forced.status.as_u16(), 204);
    let after = app.authed("GET", &format!("/api/v1/articles/{}", article["id"]), &editor, None).await;
    assert!(after.json()["data"]["featured_media"].is_null());
    assert!(after.json()["data"]["version"].as_i64() > article["version"].as_i64(), "detaching is a new version");
    let me = app.authed("GET", author_path, &editor, None).await;
    assert!(me.json()["data"]["avatar_media_id"].is_null());
    assert!(files_under(dir.path()).is_empty(), "objects removed after commit");
    app.get(&format!("/api/v1/media/{id}/file")).await.assert_problem(404);

    // An author may not force-detach their upload from someone else's article.
    let author = app.token_for("author").await;
    let theirs = upload_ok(&app, &author, "mine.png", "image/png", &png(30, 30)).await;
    let (other, _) =
        app.create_article(&editor, json!({"title": "Editor's story", "featured_media_id": theirs["id"]})).await;
    let path = format!("/api/v1/media/{}?force=true", theirs["id"]);
    app.authed("DELETE", &path, &author, None).await.assert_problem(403);
    let still = app.authed("GET", &format!("/api/v1/articles/{}", other["id"]), &editor, None).await;
    assert_eq!(still.json()["data"]["featured_media"]["id"], theirs["id"]);
}

async fn concurrent_uploads_of_the_same_bytes_share_one_stored_object(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[]).await else { return };
    let mut authors = Vec::new();
    for _ in 0..4 {
        authors.push(app.token_for("author").await);
    }
    let editor = app.token_for("editor").await;
    let bytes = jpeg(700, 500);

    let uploads = authors.iter().enumerate().map(|(i, author)| {
        let body = multipart(&[("file", Some(&format!("same-{i}.jpg")), Some("image/jpeg"), &bytes)]);
        upload(&app, author, body)
    });
    let results = futures::future::join_all(uploads).await;

    let mut ids = Vec::new();
    let mut hashes = std::collections::BTreeSet::new();
    for r in &results {
        assert_eq!(r.status.as_u16(), 201, "{}", String::from_utf8_lossy(&r.body));
        ids.push(r.json()["data"]["id"].as_i64().unwrap());
        hashes.insert(r.json()["data"]["sha256"].as_str().unwrap().to_owned());
    }
    assert_eq!(hashes.len(), 1);
    assert_eq!(files_under(dir.path()).len(), 3, "one original + two variants for four records");

    for (n, id) in ids.iter().enumerate() {
        let res = app.authed("DELETE", &format!("/api/v1/media/{id}"), &editor, None).await;
        assert_eq!(res.status.as_u16(), 204);
        let left = files_under(dir.path()).len();
        if n + 1 < ids.len() {
            assert_eq!(left, 3, "shared file kept while another record uses it");
            let other = app.get(&format!("/api/v1/media/{}/file", ids[n + 1])).await;
            assert_eq!(other.body, bytes);
        } else {
            assert_eq!(left, 0, "last record gone: file collected");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no empty directories left");
        }
    }
}

async fn the_library_lists_with_filters_and_patch_validates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let editor = app.token_for("editor").await;
    let author = app.token_for("author").await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let body = multipart(&[
        ("file", Some("report.pdf"), Some("application/pdf"), &pdf),
        ("credit", None, None, b"City of Springfield 100%_done"),
    ]);
    let res = upload(&app, &editor, body).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let doc = res.json()["data"].clone();
    assert_eq!(doc["media_type"], "document");
    assert_eq!(doc["sizes"], json!([]));
    let file = app.get(&format!("/api/v1/media/{}/file", doc["id"])).await;
    assert_eq!(file.content_type(), "application/pdf");
    assert!(file.header("content-disposition").unwrap().starts_with("attachment"), "documents download");
    let photo = upload_ok(&app, &author, "a.png", "image/png", &png(40, 40)).await;
    let body = multipart(&[
        ("file", Some("b.png"), None, &png(30, 30)),
        ("alt_text", None, None, "ÉCOLE Normale ΑΘΉΝΑ".as_bytes()),
    ]);
    let greek = upload(&app, &author, body).await.json()["data"].clone();
    for q in ["%C3%89COLE", "%C3%A9cole", "%CE%B1%CE%B8%CE%AE%CE%BD%CE%B1"] {
        let res = app.authed("GET", &format!("/api/v1/media?q={q}"), &editor, None).await;
        assert_eq!(res.json()["data"][0]["id"], greek["id"], "q={q} matches case-insensitively on both backends");
    }

    let list = app.authed("GET", "/api/v1/media?type=image", &editor, None).await;
    assert_eq!(list.status.as_u16(), 200);
    let ids: Vec<i64> = list.json()["data"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [greek["id"].as_i64().unwrap(), photo["id"].as_i64().unwrap()]);
    let by_q = app.authed("GET", "/api/v1/media?q=SPRINGFIELD%20100%25_", &editor, None).await;
    assert_eq!(by_q.json()["meta"]["total"], 1, "{}", by_q.json());
    let wildcard = app.authed("GET", "/api/v1/media?q=%25", &editor, None).await;
    assert_eq!(wildcard.json()["meta"]["total"], 1, "`%` is literal: only the credit with a % matches");
    let mine = app.authed("GET", &format!("/api/v1/media?uploaded_by={}", photo["uploaded_by"]), &editor, None).await;
    assert_eq!(mine.json()["meta"]["total"], 2);
    let oldest = app.authed("GET", "/api/v1/media?sort=created_at", &editor, None).await;
    assert_eq!(oldest.json()["data"][0]["id"], doc["id"]);
    for bad in ["type=photo", "uploaded_by=abc", "sort=size", "q=", "per_page=0", "colour=red"] {
        app.authed("GET", &format!("/api/v1/media?{bad}"), &editor, None).await.assert_problem(400);
    }
    app.get("/api/v1/media").await.assert_problem(401);

    let path = format!("/api/v1/media/{}", photo["id"]);
    for (body, field) in [
        (json!({"alt_text": "x".repeat(1001)}), "alt_text"),
        (json!({"title": 5}), "title"),
        (json!({"mime_type": "text/html"}), "mime_type"),
        (json!({"alt_text": "a\u{7}b"}), "alt_text"),
        (json!({"title": "a\u{1b}[2J"}), "title"),
    ] {
        let p = app.authed("PATCH", &path, &editor, Some(&body)).await.assert_problem(400);
        assert!(p.to_string().contains(field), "{p}");
    }
    let cleared = app.authed("PATCH", &path, &editor, Some(&json!({"alt_text": "A dot", "title": null}))).await;
    assert_eq!(cleared.json()["data"]["alt_text"], "A dot");
    assert!(cleared.json()["data"]["title"].is_null());
    app.authed("PATCH", "/api/v1/media/999999", &editor, Some(&json!({"title": "x"}))).await.assert_problem(404);
}

async fn imported_media_is_not_hosted_and_says_so(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let article = app.get_ok("/api/v1/articles/template-featured-image-horizontal").await;
    let featured = &article["data"]["featured_media"];
    assert_eq!(featured["hosted"], false);
    assert!(featured["url"].as_str().unwrap().starts_with("https://"), "{featured}");
    assert_eq!(featured["sizes"], json!([]));
    let media = app.get_ok(&format!("/api/v1/media/{}", featured["id"])).await;
    assert_eq!(media["data"]["hosted"], false);
    assert_eq!(media["data"]["url"], media["data"]["source_url"]);
    let file = app.get(&format!("/api/v1/media/{}/file", featured["id"])).await.assert_problem(404);
    assert!(file["detail"].as_str().unwrap().contains("source_url"));
}

async fn the_allow_list_is_configurable_and_svg_when_enabled_cannot_run_script(backend: Backend) {
    let vars = [("MEDIA_ALLOWED_TYPES", "image/png"), ("MEDIA_ALLOW_SVG", "true")];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    let author = app.token_for("author").await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#;

    let jpeg_refused = upload(&app, &author, multipart(&[("file", Some("a.jpg"), None, &jpeg(40, 40))])).await;
    let media = upload_ok(&app, &author, "chart.svg", "image/svg+xml", svg).await;

    let problem = jpeg_refused.assert_problem(415);
    assert!(problem["detail"].as_str().unwrap().contains("image/jpeg"), "{problem}");
    assert_eq!(media["mime_type"], "image/svg+xml");
    assert_eq!(media["sizes"], json!([]));
    let file = app.get(&format!("/api/v1/media/{}/file", media["id"])).await;
    assert_eq!(file.content_type(), "image/svg+xml");
    let csp = file.header("content-security-policy").unwrap();
    assert!(csp.contains("sandbox") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
    upload_ok(&app, &author, "ok.png", "image/png", &png(20, 20)).await;
}

async fn a_stalled_upload_is_dropped_with_408(backend: Backend) {
    let vars = [("MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS", "1")];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    let author = app.token_for("author").await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    // A raw socket: send the head and the start of the body, then go quiet.
    let (status, body, waited) = actix_web::rt::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let start =
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x7fPNG");
        let head = format!(
            "POST /api/v1/media HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {author}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 5000\r\n\r\n{start}"
        );
        s.write_all(head.as_bytes()).unwrap();
        let started = std::time::Instant::now();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let status = text.split(' ').nth(1).unwrap_or("").to_owned();
        (status, text, started.elapsed())
    })
    .await
    .unwrap();

    assert_eq!(status, "408", "{body}");
    assert!(body.contains("application/problem+json") && body.contains("request_timeout"), "{body}");
    assert!(waited < std::time::Duration::from_secs(5), "dropped after about a second, not {waited:?}");
}

async fn a_failed_store_write_leaves_no_objects_and_no_row(backend: Backend) {
    let Some((app, dir)) = with_local_store(backend, &[]).await else { return };
    let author = app.token_for("author").await;
    let bytes = jpeg(900, 600);
    // Learn the stored hash from a throwaway upload, then delete it.
    let probe = upload_ok(&app, &author, "probe.jpg", "image/jpeg", &bytes).await;
    let sha = probe["sha256"].as_str().unwrap().to_owned();
    assert_eq!(
        app.authed("DELETE", &format!("/api/v1/media/{}", probe["id"]), &author, None).await.status.as_u16(),
        204
    );
    // A directory where the 640 px variant must go makes that write fail.
    std::fs::create_dir_all(dir.path().join(&sha[..2]).join(&sha).join("w640.jpg").join("blocker")).unwrap();

    let res = upload(&app, &author, multipart(&[("file", Some("a.jpg"), Some("image/jpeg"), &bytes)])).await;

    res.assert_problem(503);
    let files = files_under(dir.path());
    assert!(
        files.iter().all(|f| f.ends_with("blocker")) || files.is_empty(),
        "objects written before the failure are removed: {files:?}"
    );
    assert!(!files.iter().any(|f| f.to_string_lossy().contains("original")), "{files:?}");
    let listed = app.authed("GET", "/api/v1/media", &author, None).await;
    assert_eq!(listed.json()["meta"]["total"], 0, "no row");
}

/// Opens an upload over a raw socket that sends its head and a few body
/// bytes, then holds the connection for `hold`.
pub(crate) fn stalled_upload(addr: String, token: String, hold: std::time::Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST /api/v1/media HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 5000\r\n\r\n--{BOUNDARY}\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        std::thread::sleep(hold);
    })
}

async fn one_caller_cannot_hold_every_upload_slot(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let slow = app.token_for("author").await;
    let other = app.token_for("author").await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let hold = std::time::Duration::from_secs(3);
    let holders: Vec<_> = (0..2).map(|_| stalled_upload(addr.clone(), slow.clone(), hold)).collect();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;

    let third = upload(&app, &slow, multipart(&[("file", Some("a.png"), None, &png(20, 20))])).await;
    let someone_else = upload(&app, &other, multipart(&[("file", Some("b.png"), None, &png(20, 20))])).await;

    third.assert_problem(429);
    assert_eq!(third.header("retry-after"), Some("5"));
    assert_eq!(someone_else.status.as_u16(), 201, "{}", String::from_utf8_lossy(&someone_else.body));
    for h in holders {
        h.join().unwrap();
    }
}

/// Runs against a real S3-compatible server (moto) named by
/// `TEST_S3_ENDPOINT`; skipped without it unless `CI=true`.
async fn the_s3_store_serves_uploads_and_signed_redirects(backend: Backend) {
    let Some(endpoint) = crate::helpers::s3_endpoint() else { return };
    let owned = crate::helpers::s3_settings(&endpoint, "newsroom").await;
    let bucket = owned[0].1.trim_start_matches("s3://").split('/').next().unwrap().to_owned();
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let client = awc::Client::new();
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    let editor = app.token_for("editor").await;
    let bytes = jpeg(900, 600);

    let media = upload_ok(&app, &editor, "s3.jpg", "image/jpeg", &bytes).await;

    let id = media["id"].as_i64().unwrap();
    let file = app.get(&format!("/api/v1/media/{id}/file")).await;
    assert_eq!(file.status.as_u16(), 200);
    assert_eq!(file.body, bytes);
    let part = app.send("GET", &format!("/api/v1/media/{id}/file"), &[("range", "bytes=0-9")], None).await;
    assert_eq!(part.status.as_u16(), 206);
    assert_eq!(part.body, bytes[..10]);
    let w640 = app.get(&format!("/api/v1/media/{id}/file/w640")).await;
    assert_eq!(image::load_from_memory(&w640.body).unwrap().width(), 640);

    // A second instance that answers with pre-signed redirects.
    let mut redirect_vars = vars.to_vec();
    redirect_vars.push(("MEDIA_SIGNED_REDIRECT_SECONDS", "120"));
    let Some(signed) = TestApp::spawn_with(backend, &redirect_vars).await else { return };
    let editor2 = signed.token_for("editor").await;
    let m2 = upload_ok(&signed, &editor2, "s3.jpg", "image/jpeg", &bytes).await;
    let res = signed.get(&format!("/api/v1/media/{}/file", m2["id"])).await;
    assert_eq!(res.status.as_u16(), 302);
    let location = res.header("location").unwrap().to_owned();
    assert!(location.starts_with(&endpoint) && location.contains("X-Amz-Signature"), "{location}");
    let sha = media["sha256"].as_str().unwrap();
    assert!(location.contains(&format!("/{bucket}/newsroom/{}/{sha}/original.jpg", &sha[..2])), "{location}");
    let mut fetched = client.get(location).send().await.unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.body().limit(10 << 20).await.unwrap().to_vec(), bytes);

    // Deleting the first instance's only record removes the shared objects
    // from the bucket (the second instance has its own database, so its
    // record now points at nothing: the signed URL answers 404).
    assert_eq!(app.authed("DELETE", &format!("/api/v1/media/{id}"), &editor, None).await.status.as_u16(), 204);
    let res = signed.get(&format!("/api/v1/media/{}/file", m2["id"])).await;
    let gone = client.get(res.header("location").unwrap()).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 404, "objects collected from S3");
}
