//! Deciding what an uploaded file is, refusing what is not allowed, and
//! making the resized renditions of images. Pure and blocking: callers run it
//! on the blocking pool.
//!
//! - The type comes from the bytes (`infer`, plus an SVG check, since SVG is
//!   text), never from the name or the client's `Content-Type`; either of those
//!   disagreeing with the bytes is a refusal (415).
//! - Image dimensions are read from the header (`imagesize`) and checked
//!   against `MEDIA_MAX_PIXELS` before anything is decoded, so a
//!   decompression bomb costs a header read (422). Decoding then also runs
//!   under `image::Limits`.
//! - Markup inside a binary file (`<script`, `<html`, `<?php` …), the mark of
//!   a polyglot, is refused (422).
//! - Variants: JPEG, PNG and WebP images get renditions 320, 640, 1280 and
//!   2048 px wide, only those narrower than the original, with EXIF
//!   orientation applied and no metadata (re-encoded: JPEG quality 82, or PNG
//!   when the image has transparency). GIF (animation would be lost) and
//!   AVIF (no decoder in this build) are served as uploaded, with no variants.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::error::{ApiError, FieldError};

/// Widths of the generated renditions, in pixels.
pub const VARIANT_WIDTHS: [u32; 4] = [320, 640, 1280, 2048];

/// What uploads may be.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Accepted MIME types (`MEDIA_ALLOWED_TYPES`).
    pub allowed_types: Vec<String>,
    /// Whether SVG is accepted (`MEDIA_ALLOW_SVG`).
    pub allow_svg: bool,
    /// Largest image area in pixels (`MEDIA_MAX_PIXELS`).
    pub max_pixels: u64,
}

/// One encoded rendition of an image.
#[derive(Clone, Debug)]
pub struct EncodedVariant {
    /// `w320`, `w640`, `w1280` or `w2048`.
    pub name: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// `image/jpeg` or `image/png`.
    pub mime_type: &'static str,
    /// The encoded file.
    pub bytes: bytes::Bytes,
}

/// What an accepted upload is.
#[derive(Clone, Debug)]
pub struct Inspected {
    /// The MIME type detected from the bytes, e.g. `image/jpeg`.
    pub mime_type: String,
    /// File extension used for stored objects, e.g. `jpg`.
    pub extension: &'static str,
    /// `image`, `audio`, `video` or `document`.
    pub kind: &'static str,
    /// Displayed width (after EXIF orientation), for images.
    pub width: Option<u32>,
    /// Displayed height (after EXIF orientation), for images.
    pub height: Option<u32>,
    /// Resized renditions, smallest first.
    pub variants: Vec<EncodedVariant>,
    /// The bytes to store: the upload with its metadata stripped
    /// ([`strip_metadata`]).
    pub stored: bytes::Bytes,
}

const SVG: &str = "image/svg+xml";

fn refuse_type(message: String) -> ApiError {
    ApiError::UnsupportedMediaType {
        detail: format!("file {message}"),
        errors: vec![FieldError { field: "file".into(), message }],
    }
}

fn unprocessable(message: String) -> ApiError {
    ApiError::unprocessable("file", message)
}

/// Detects the type of `bytes`: `infer`'s magic numbers, then SVG (XML whose
/// root is `<svg`). `None` when unrecognised.
pub fn detect(bytes: &[u8]) -> Option<String> {
    if let Some(t) = infer::get(bytes) {
        if t.mime_type() != "text/xml" && t.mime_type() != "text/html" {
            return Some(t.mime_type().to_owned());
        }
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if (trimmed.starts_with("<svg") || trimmed.starts_with("<?xml") || trimmed.starts_with("<!doctype svg"))
        && head.contains("<svg")
    {
        return Some(SVG.to_owned());
    }
    infer::get(bytes).map(|t| t.mime_type().to_owned())
}

/// The extension stored objects get for `mime`.
pub fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        SVG => "svg",
        "application/pdf" => "pdf",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        _ => "bin",
    }
}

/// `image`, `audio`, `video` or `document`, from a MIME type.
pub fn kind_for(mime: &str) -> &'static str {
    match mime.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "document",
    }
}

fn same_type(declared: &str, detected: &str) -> bool {
    let canonical = |m: &str| match m {
        "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
        "image/x-png" => "image/png".to_owned(),
        "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => "audio/mpeg".to_owned(),
        other => other.to_owned(),
    };
    canonical(declared) == canonical(detected)
}

/// Tags that have no business inside an image, audio, video or PDF file;
/// finding one (as `<tag` then whitespace, `>` or `/`, optionally with a
/// namespace prefix or spaces after `<`) means the file doubles as a web page
/// or script: a polyglot. Five or more bytes each, so random compressed data
/// matches one about once in 10⁶ files of 25 MiB.
const MARKUP_TAGS: &[&[u8]] = &[
    b"script",
    b"html",
    b"body",
    b"iframe",
    b"frame",
    b"frameset",
    b"svg",
    b"img",
    b"object",
    b"embed",
    b"style",
    b"form",
    b"base",
    b"link",
    b"meta",
    b"applet",
    b"math",
    b"details",
    b"video",
    b"audio",
    b"source",
    b"input",
    b"textarea",
    b"marquee",
    b"select",
    b"button",
    b"template",
    b"dialog",
    b"noscript",
    b"xmp",
    b"isindex",
];
/// Other markers: server-side code, doctype, script URLs.
const MARKUP_LITERALS: &[&[u8]] =
    &[b"<?php", b"<!doctype html", b"javascript:", b"vbscript:", b"<?xml-stylesheet", b" onerror=", b" onload="];

fn markup_in(bytes: &[u8]) -> Option<String> {
    for lit in MARKUP_LITERALS {
        if bytes.windows(lit.len()).any(|w| w.eq_ignore_ascii_case(lit)) {
            return Some(String::from_utf8_lossy(lit).into_owned());
        }
    }
    let mut i = 0;
    while let Some(pos) = bytes.get(i..).and_then(|rest| rest.iter().position(|b| *b == b'<')) {
        let start = i + pos + 1;
        i = start;
        let mut j = start;
        while j < bytes.len() && j - start < 4 && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        // An optional `prefix:` (XHTML namespaces, `<x:script`).
        let name_start = j;
        let mut k = j;
        while k < bytes.len() && k - name_start < 16 && bytes[k].is_ascii_alphanumeric() {
            k += 1;
        }
        if k < bytes.len() && bytes[k] == b':' && k > name_start {
            j = k + 1;
        }
        for tag in MARKUP_TAGS {
            let end = j + tag.len();
            if end < bytes.len()
                && bytes[j..end].eq_ignore_ascii_case(tag)
                && (bytes[end].is_ascii_whitespace() || bytes[end] == b'>' || bytes[end] == b'/')
            {
                return Some(format!("<{}", String::from_utf8_lossy(tag)));
            }
        }
    }
    None
}

/// Looks for markup in `bytes`, and again with NUL bytes dropped (UTF-16 text).
fn contains_markup(bytes: &[u8]) -> Option<String> {
    markup_in(bytes).or_else(|| {
        if bytes.contains(&0) {
            let narrowed: Vec<u8> = bytes.iter().copied().filter(|b| *b != 0).collect();
            markup_in(&narrowed)
        } else {
            None
        }
    })
}

/// A minimal EXIF block (TIFF, little-endian) holding only `Orientation`.
fn orientation_exif(value: u16) -> bytes::Bytes {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&value.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    bytes::Bytes::from(tiff)
}

/// `bytes` cut after the primary image's end-of-image marker: whatever
/// follows (MPF secondary images and gain maps with their own EXIF and GPS,
/// or appended junk) is dropped. In entropy-coded data `FF` is always
/// followed by `00` or a restart marker, so the first `FF D9` after the first
/// start-of-scan ends the image.
fn truncate_after_jpeg_end(bytes: bytes::Bytes) -> bytes::Bytes {
    // Walk the marker segments from SOI to the first SOS, by their lengths,
    // so bytes inside segments (an ICC profile) are never taken for markers.
    let mut i = 2;
    let sos = loop {
        if i + 4 > bytes.len() || bytes[i] != 0xFF {
            return bytes;
        }
        let marker = bytes[i + 1];
        if marker == 0xDA {
            break i;
        }
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        i += 2 + len;
    };
    match bytes[sos..].windows(2).position(|w| w == [0xFF, 0xD9]) {
        Some(eoi) => bytes.slice(..sos + eoi + 2),
        None => bytes,
    }
}

/// The file as it will be stored: JPEG, PNG and WebP lose their metadata
/// (EXIF with GPS and camera serials, XMP, IPTC, comments, text chunks;
/// for JPEG also MPF secondary images and anything after the end marker),
/// losslessly, with `img-parts`; colour profiles stay, and a non-default
/// EXIF orientation is written back alone so the image still displays the
/// right way up. Other types are stored as uploaded.
pub fn strip_metadata(bytes: &bytes::Bytes, mime: &str, exif_orientation: u16) -> bytes::Bytes {
    use img_parts::ImageEXIF;
    let keep_orientation = (exif_orientation > 1).then(|| orientation_exif(exif_orientation));
    match mime {
        "image/jpeg" => match img_parts::jpeg::Jpeg::from_bytes(bytes.clone()) {
            Ok(mut jpeg) => {
                use img_parts::jpeg::markers;
                // Keep APP0 (JFIF), APP2 (ICC profile, MPF) and APP14 (Adobe colour transform).
                jpeg.segments_mut().retain(|seg| {
                    let m = seg.marker();
                    let app = (markers::APP0..=markers::APP15).contains(&m);
                    !(m == markers::COM || (app && ![markers::APP0, markers::APP2, markers::APP14].contains(&m)))
                });
                // MPF (APP2 `MPF\0`) indexes secondary images appended after the
                // primary one; those go below, so the index goes too.
                jpeg.segments_mut()
                    .retain(|seg| !(seg.marker() == markers::APP2 && seg.contents().starts_with(b"MPF\0")));
                jpeg.set_exif(keep_orientation);
                truncate_after_jpeg_end(jpeg.encoder().bytes())
            }
            Err(_) => bytes.clone(),
        },
        "image/png" => match img_parts::png::Png::from_bytes(bytes.clone()) {
            Ok(mut png) => {
                for kind in [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"] {
                    png.remove_chunks_by_type(kind);
                }
                png.set_exif(keep_orientation);
                png.encoder().bytes()
            }
            Err(_) => bytes.clone(),
        },
        "image/webp" => match img_parts::webp::WebP::from_bytes(bytes.clone()) {
            Ok(mut webp) => {
                webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
                webp.set_exif(keep_orientation);
                webp.encoder().bytes()
            }
            Err(_) => bytes.clone(),
        },
        _ => bytes.clone(),
    }
}

/// Decides whether `bytes` may be stored, and makes its variants.
///
/// `file_name` is the client's name (only its extension is checked);
/// `declared` the part's `Content-Type`, if any.
///
/// Errors: 415 `unsupported_media_type` for unrecognised, disallowed or
/// mismatched types; 422 `unprocessable` for images over the pixel limit,
/// broken images and polyglots. Every error names the field `file`.
pub fn inspect(
    bytes: &bytes::Bytes,
    file_name: Option<&str>,
    declared: Option<&str>,
    policy: &Policy,
) -> Result<Inspected, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "is empty"));
    }
    let mime = detect(bytes).ok_or_else(|| refuse_type("is of a type that could not be recognised".into()))?;
    let allowed = if mime == SVG { policy.allow_svg } else { policy.allowed_types.contains(&mime) };
    if !allowed {
        let hint = if mime == SVG { " (SVG is off; see MEDIA_ALLOW_SVG)" } else { "" };
        return Err(refuse_type(format!("is {mime}, which is not accepted{hint}")));
    }
    let ext = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.trim().to_ascii_lowercase());
    if let Some(ext) = ext.filter(|e| !e.is_empty()) {
        let guesses = mime_guess::from_ext(&ext);
        if !guesses.iter().any(|g| same_type(g.essence_str(), &mime)) {
            return Err(refuse_type(format!("content is {mime} but its name ends in .{ext}")));
        }
    }
    if let Some(declared) = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
        if !declared.is_empty() && declared != "application/octet-stream" && !same_type(&declared, &mime) {
            return Err(refuse_type(format!("content is {mime} but was sent as {declared}")));
        }
    }
    if mime != SVG {
        if let Some(marker) = contains_markup(bytes) {
            return Err(unprocessable(format!("is {mime} but contains `{marker}` markup (a polyglot file)")));
        }
    }
    let mut out = Inspected {
        extension: extension_for(&mime),
        kind: kind_for(&mime),
        mime_type: mime.clone(),
        width: None,
        height: None,
        variants: Vec::new(),
        stored: bytes.clone(),
    };
    if mime == SVG || out.kind != "image" {
        return Ok(out);
    }

    let size =
        imagesize::blob_size(bytes).map_err(|e| unprocessable(format!("is not a readable {mime} image ({e})")))?;
    let (w, h) = (size.width as u64, size.height as u64);
    if w == 0 || h == 0 {
        return Err(unprocessable(format!("declares an empty image ({w}×{h})")));
    }
    if w.saturating_mul(h) > policy.max_pixels {
        return Err(unprocessable(format!(
            "declares {w}×{h} pixels, over the limit of {} (MEDIA_MAX_PIXELS)",
            policy.max_pixels
        )));
    }
    out.width = Some(w as u32);
    out.height = Some(h as u32);
    let format = match mime.as_str() {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        "image/gif" => ImageFormat::Gif,
        _ => return Ok(out), // AVIF: no decoder here; header dimensions only.
    };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(&bytes[..]), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w as u32);
    limits.max_image_height = Some(h as u32);
    limits.max_alloc = Some(policy.max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(limits);
    let broken = |e: image::ImageError| unprocessable(format!("is not a valid {mime} image ({e})"));
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let (dw, dh) = decoder.dimensions();
    if (dw as u64, dh as u64) != (w, h) {
        return Err(unprocessable(format!("has inconsistent dimensions ({w}×{h} and {dw}×{dh})")));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(broken)?;
    img.apply_orientation(orientation);
    out.width = Some(img.width());
    out.height = Some(img.height());
    out.stored = strip_metadata(bytes, &mime, orientation.to_exif() as u16);
    if format == ImageFormat::Gif {
        return Ok(out);
    }
    out.variants = make_variants(img)?;
    Ok(out)
}

fn make_variants(img: DynamicImage) -> Result<Vec<EncodedVariant>, ApiError> {
    let alpha = img.color().has_alpha();
    let (full_w, full_h) = (img.width(), img.height());
    let mut out = Vec::new();
    // Variants are 8-bit: converting a 16-bit or float image first keeps the
    // resize buffers at a quarter (or less) of their size.
    // Largest first, each from the previous one: a 50 MP original is resized once.
    let mut source = match img.color() {
        image::ColorType::L8 | image::ColorType::La8 | image::ColorType::Rgb8 | image::ColorType::Rgba8 => img,
        _ if alpha => DynamicImage::ImageRgba8(img.to_rgba8()),
        _ => DynamicImage::ImageRgb8(img.to_rgb8()),
    };
    for &width in VARIANT_WIDTHS.iter().rev() {
        if width >= full_w {
            continue;
        }
        let height = ((full_h as u64 * width as u64 + full_w as u64 / 2) / full_w as u64).max(1) as u32;
        let resized = source.resize_exact(width, height, image::imageops::FilterType::CatmullRom);
        let mut buf = std::io::Cursor::new(Vec::new());
        let mime_type = if alpha {
            resized.write_to(&mut buf, ImageFormat::Png).map(|_| "image/png")
        } else {
            let rgb = DynamicImage::ImageRgb8(resized.to_rgb8());
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 82).encode_image(&rgb).map(|_| "image/jpeg")
        }
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding the {width} px variant: {e}")))?;
        out.push(EncodedVariant {
            name: format!("w{width}"),
            width,
            height,
            mime_type,
            bytes: bytes::Bytes::from(buf.into_inner()),
        });
        source = resized;
    }
    out.reverse();
    Ok(out)
}

/// Makes a client's file name safe to display: the last path segment only,
/// control characters and path separators removed, at most 200 characters.
/// `upload` when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    // Control characters, path and shell metacharacters, and invisible
    // formatting (bidi overrides such as U+202E, which can make `gpj.exe`
    // look like `exe.jpg`; zero-width characters; the BOM).
    let invisible =
        |c: char| matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !invisible(*c) && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "upload".to_owned();
    }
    if cleaned.chars().count() <= 200 {
        return cleaned.to_owned();
    }
    // Too long: shorten the stem and keep a short extension.
    match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.chars().count() <= 10 => {
            let keep = 200 - ext.chars().count() - 1;
            format!("{}.{ext}", stem.chars().take(keep).collect::<String>())
        }
        _ => cleaned.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            allowed_types: crate::config::DEFAULT_MEDIA_TYPES.iter().map(|s| s.to_string()).collect(),
            allow_svg: false,
            max_pixels: 50_000_000,
        }
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, ImageFormat::Png).unwrap();
        buf.into_inner()
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\x\\photo.jpg"), "photo.jpg");
        assert_eq!(sanitize_file_name("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(sanitize_file_name("../.."), "upload");
        assert_eq!(sanitize_file_name(&"x".repeat(500)).len(), 200);
        let long = format!("{}.jpg", "y".repeat(300));
        assert!(sanitize_file_name(&long).ends_with(".jpg") && sanitize_file_name(&long).chars().count() == 200);
        assert_eq!(sanitize_file_name("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(sanitize_file_name("a\u{200b}b.png"), "ab.png");
    }

    #[test]
    fn variants_are_narrower_than_the_original_and_keep_the_aspect_ratio() {
        let got = inspect(&png(1000, 500).into(), Some("a.png"), Some("image/png"), &policy()).unwrap();
        assert_eq!((got.width, got.height), (Some(1000), Some(500)));
        let sizes: Vec<(u32, u32)> = got.variants.iter().map(|v| (v.width, v.height)).collect();
        assert_eq!(sizes, vec![(320, 160), (640, 320)]);
        for v in &got.variants {
            assert_eq!(v.mime_type, "image/jpeg");
            let decoded = image::load_from_memory(&v.bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (v.width, v.height));
        }
    }

    #[test]
    fn a_small_image_gets_no_variants() {
        let got = inspect(&png(100, 80).into(), None, None, &policy()).unwrap();
        assert!(got.variants.is_empty());
        assert_eq!(got.kind, "image");
    }

    #[test]
    fn markup_is_found_in_its_disguises() {
        for hostile in [
            &b"\x89PNG....<ScRiPt>alert(1)"[..],
            b"..< script>..",
            b"..<x:script xmlns:x='http://www.w3.org/1999/xhtml'>",
            b"..<svg onload=alert(1)>",
            b"..<img src=x onerror=alert(1)>",
            b"..<base href=//evil.example/>",
            b"\x00<\x00s\x00c\x00r\x00i\x00p\x00t\x00>\x00",
            b"..<?php system($_GET[1]); ?>",
            b"..<details open ontoggle=alert(1)>",
            b"..<input autofocus onfocus=alert(1)>",
            b"..<?xml-stylesheet href='x.xsl'?>",
        ] {
            assert!(contains_markup(hostile).is_some(), "{}", String::from_utf8_lossy(hostile));
        }
        for benign in
            [&b"\xff\xd8\xff plain bytes"[..], b"<imgx", b"a < b and c > d", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>"]
        {
            assert_eq!(contains_markup(benign), None, "{}", String::from_utf8_lossy(benign));
        }
    }

    #[test]
    fn a_jpeg_loses_what_follows_its_end_marker() {
        let img = DynamicImage::new_rgb8(16, 16);
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, ImageFormat::Jpeg).unwrap();
        let primary = buf.into_inner();
        let mut with_tail = primary.clone();
        with_tail.extend_from_slice(&primary); // an appended "secondary image"
        with_tail.extend_from_slice(b"SECRETTRAIL");
        let stored = strip_metadata(&with_tail.into(), "image/jpeg", 1);
        assert!(stored.ends_with(&[0xFF, 0xD9]) && stored.len() <= primary.len());
        assert!(!stored.windows(11).any(|w| w == b"SECRETTRAIL"));
        assert_eq!(image::load_from_memory(&stored).unwrap().width(), 16);
    }

    #[test]
    fn the_pixel_limit_is_checked_before_decoding() {
        let p = Policy { max_pixels: 100 * 100, ..policy() };
        let err = inspect(&png(101, 100).into(), None, None, &p).unwrap_err();
        assert_eq!(err.problem().status, 422);
    }
}
