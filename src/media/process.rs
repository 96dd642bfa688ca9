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

/// Markers that have no business inside an image, audio, video or PDF file;
/// finding one means the file doubles as a web page or script (a polyglot).
const MARKUP: &[&[u8]] = &[b"<script", b"<html", b"<!doctype html", b"<?php", b"<iframe", b"<body", b"javascript:"];

fn contains_markup(bytes: &[u8]) -> Option<&'static str> {
    // Case-insensitive search for each marker's first byte, then the rest.
    for marker in MARKUP {
        let first = marker[0];
        let mut i = 0;
        while let Some(pos) = memchr_from(bytes, first, i) {
            let end = pos + marker.len();
            if end <= bytes.len() && bytes[pos..end].eq_ignore_ascii_case(marker) {
                return Some(std::str::from_utf8(marker).unwrap_or("markup"));
            }
            i = pos + 1;
        }
    }
    None
}

fn memchr_from(bytes: &[u8], needle: u8, from: usize) -> Option<usize> {
    bytes.get(from..)?.iter().position(|b| *b == needle || b.eq_ignore_ascii_case(&needle)).map(|p| p + from)
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
    bytes: &[u8],
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
    if let Some(ext) = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase()) {
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
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
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
    if format == ImageFormat::Gif {
        return Ok(out);
    }
    out.variants = make_variants(&img)?;
    Ok(out)
}

fn make_variants(img: &DynamicImage) -> Result<Vec<EncodedVariant>, ApiError> {
    let alpha = img.color().has_alpha();
    let mut out = Vec::new();
    // Largest first, each from the previous one: a 50 MP original is resized once.
    let mut source = img.clone();
    for &width in VARIANT_WIDTHS.iter().rev() {
        if width >= img.width() {
            continue;
        }
        let height = ((img.height() as u64 * width as u64 + img.width() as u64 / 2) / img.width() as u64).max(1) as u32;
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
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let cut: String = cleaned.chars().take(200).collect();
    if cut.is_empty() {
        "upload".to_owned()
    } else {
        cut
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
    }

    #[test]
    fn variants_are_narrower_than_the_original_and_keep_the_aspect_ratio() {
        let got = inspect(&png(1000, 500), Some("a.png"), Some("image/png"), &policy()).unwrap();
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
        let got = inspect(&png(100, 80), None, None, &policy()).unwrap();
        assert!(got.variants.is_empty());
        assert_eq!(got.kind, "image");
    }

    #[test]
    fn markup_is_found_in_any_case() {
        assert_eq!(contains_markup(b"\x89PNG....<ScRiPt>alert(1)"), Some("<script"));
        assert_eq!(contains_markup(b"\xff\xd8\xff plain bytes"), None);
    }

    #[test]
    fn the_pixel_limit_is_checked_before_decoding() {
        let p = Policy { max_pixels: 100 * 100, ..policy() };
        let err = inspect(&png(101, 100), None, None, &p).unwrap_err();
        assert_eq!(err.problem().status, 422);
    }
}
