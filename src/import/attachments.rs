//! WordPress attachments hosted here: `broadsheet import wordpress --media
//! download` fetches each attachment's file into the media store, through
//! the upload pipeline ([`crate::media::service::store_import`]: type
//! sniffing, size and pixel limits, metadata stripping, variants), and
//! [`Rewriter`] points body HTML at the hosted copies.
//!
//! This runs inline in the CLI (an import is not a request, so the job
//! queue's rule does not apply): a few downloads at a time, each with a
//! connect and an overall timeout and a size cap counted while streaming.
//! Every failure (a 404, HTML instead of an image, a file over
//! `MEDIA_MAX_BYTES`, a redirect loop, a slow server, a refused address) is a
//! per-file warning; the import goes on. A file is stored objects-first and
//! its record written in one transaction, so a failure leaves no record and
//! its objects are collected. A second run skips attachments whose record
//! already holds a file from the same source URL (`media.source_url` →
//! `media.id`), so it resumes where the first stopped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::Summary;
use crate::media::model::{MediaForm, MediaRow};
use crate::webhooks::ssrf;

/// Redirects followed per file; more is reported as a redirect loop.
pub const MAX_REDIRECTS: usize = 5;

/// How `--media download` fetches files.
#[derive(Clone, Debug)]
pub struct Downloader {
    /// The media store, upload policy and `MEDIA_MAX_BYTES` (the size cap).
    pub media: crate::media::MediaState,
    /// `IMPORT_ALLOW_LOOPBACK`: let downloads reach loopback addresses (tests
    /// and local mirrors only). Private, link-local and metadata addresses
    /// stay refused, as for webhooks ([`ssrf::refusal`]).
    pub allow_loopback: bool,
    /// Downloads in flight at once (`--media-concurrency`, 1–16).
    pub concurrency: usize,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest a whole file may take, redirects and body included
    /// (`--media-timeout`).
    pub timeout: Duration,
    /// `--media-origin`: fetch from this scheme, host and port instead of the
    /// export's (same paths), e.g. a mirror of a site that is gone. The
    /// record keeps the export's URL.
    pub origin: Option<url::Url>,
}

/// An attachment and what became of it: its media id, or why it failed.
type Fetched = (Wanted, Result<i64, String>);

/// One attachment to fetch.
#[derive(Clone, Debug)]
pub(crate) struct Wanted {
    /// The attachment's import key (its `wp:post_id`, else guid or link).
    pub key: String,
    /// `wp:attachment_url` (else `guid`), as exported.
    pub url: String,
    /// The file name the upload checks compare the content with.
    pub file_name: String,
    /// The record's metadata, as the import writes it.
    pub form: MediaForm,
}

/// An imported record that holds a stored file.
#[derive(Clone, Debug)]
pub struct Hosted {
    /// `media.id`.
    pub media_id: i64,
    /// The export's URL it was fetched from.
    pub source_url: Option<String>,
    /// Sniffed type.
    pub mime_type: Option<String>,
    /// `image`, `audio`, `video` or `document`.
    pub kind: String,
    /// Pixels, when an image.
    pub width: Option<i32>,
    /// (variant name, width), narrowest first.
    pub variants: Vec<(String, i32)>,
}

impl Hosted {
    /// From a media row.
    pub fn from_row(row: &MediaRow) -> Self {
        let mut variants: Vec<(String, i32)> = row.stored_variants().into_iter().map(|v| (v.name, v.width)).collect();
        variants.sort_by_key(|(_, w)| *w);
        Self {
            media_id: row.id,
            source_url: row.source_url.clone(),
            mime_type: row.mime_type.clone(),
            kind: row.kind.clone(),
            width: row.width,
            variants,
        }
    }
}

impl Downloader {
    /// A downloader with the defaults: 4 at once, 10 s to connect, 120 s a file.
    pub fn new(media: crate::media::MediaState, allow_loopback: bool) -> Self {
        Self {
            media,
            allow_loopback,
            concurrency: 4,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            origin: None,
        }
    }

    /// Fetches and stores every file of `wanted` not already in `hosted`
    /// (same key and source URL), `concurrency` at a time, on a runtime of its
    /// own on a separate thread (so it can be called from inside another
    /// runtime, as tests do). Records what happened in `summary`; returns the
    /// keys of the attachments stored.
    pub(crate) fn run(
        &self,
        pool: &crate::db::Pool,
        wanted: Vec<Wanted>,
        hosted: &HashMap<String, Hosted>,
        summary: &mut Summary,
    ) -> Vec<String> {
        let mut todo = Vec::new();
        for w in wanted {
            match hosted.get(&w.key) {
                Some(h) if h.source_url.as_deref() == Some(w.url.as_str()) => summary.unchanged("media files"),
                _ => todo.push(w),
            }
        }
        if todo.is_empty() {
            return Vec::new();
        }
        let outcome = std::thread::scope(|s| {
            s.spawn(|| -> Result<Vec<Fetched>, String> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the download runtime: {e}"))?;
                rt.block_on(async {
                    let client = self.client().map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                    let results = futures_util::stream::iter(todo)
                        .map(|w| {
                            let client = &client;
                            async move {
                                let r = self.fetch_and_store(client, pool, &w).await;
                                (w, r)
                            }
                        })
                        .buffer_unordered(self.concurrency.clamp(1, 16))
                        .collect::<Vec<_>>()
                        .await;
                    Ok(results)
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the download thread panicked".into()))
        });
        let results = match outcome {
            Ok(r) => r,
            Err(message) => {
                summary.warn(format!("media downloads: none ran: {message}"));
                summary.skip("media downloads that failed");
                return Vec::new();
            }
        };
        let mut stored = Vec::new();
        for (w, result) in results {
            match result {
                Ok(_) => {
                    summary.saved("media files", true);
                    stored.push(w.key);
                }
                Err(message) => {
                    summary.warn(format!("attachment {} ({}): not downloaded: {message}", w.key, w.url));
                    summary.skip("media downloads that failed");
                }
            }
        }
        stored
    }

    /// The HTTP client: the webhook guard's resolver (every connection's
    /// addresses are checked), redirects checked and capped, no proxies.
    fn client(&self) -> reqwest::Result<reqwest::Client> {
        let allow = self.allow_loopback;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().iter().any(|u| u == attempt.url()) {
                let to = attempt.url().to_string();
                return attempt.error(format!("a redirect loop (back to {to})"));
            }
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match check_target(attempt.url(), allow) {
                Ok(()) => attempt.follow(),
                Err(m) => {
                    let to = attempt.url().to_string();
                    attempt.error(format!("a redirect to {to}: {m}"))
                }
            }
        });
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(policy)
            .no_proxy()
            .user_agent(concat!("broadsheet-import/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(ssrf::GuardedResolver { allow_loopback: allow }))
            .build()
    }

    /// The URL to fetch for the export's `url`: with `--media-origin`, the
    /// same path and query on that origin.
    fn fetch_url(&self, url: &str) -> Result<url::Url, String> {
        let mut parsed = ssrf::check_shape(url)?;
        if let Some(origin) = &self.origin {
            parsed.set_scheme(origin.scheme()).map_err(|_| "cannot take --media-origin's scheme".to_owned())?;
            parsed.set_host(origin.host_str()).map_err(|e| format!("cannot take --media-origin's host ({e})"))?;
            parsed.set_port(origin.port()).map_err(|_| "cannot take --media-origin's port".to_owned())?;
        }
        check_target(&parsed, self.allow_loopback)?;
        Ok(parsed)
    }

    /// Downloads `w` (within the size cap and the timeout) and stores it.
    async fn fetch_and_store(
        &self,
        client: &reqwest::Client,
        pool: &crate::db::Pool,
        w: &Wanted,
    ) -> Result<i64, String> {
        let url = self.fetch_url(&w.url)?;
        let bytes = match tokio::time::timeout(self.timeout, self.fetch(client, url)).await {
            Ok(r) => r?,
            Err(_) => return Err(format!("timed out after {} s", self.timeout.as_secs())),
        };
        crate::media::service::store_import(&self.media, pool, bytes, w.file_name.clone(), w.form.clone())
            .await
            .map(|row| row.id)
            .map_err(|e| {
                let p = e.problem();
                match p.errors.first() {
                    Some(f) => format!("{}: {}", f.field, f.message),
                    None => p.detail,
                }
            })
    }

    async fn fetch(&self, client: &reqwest::Client, url: url::Url) -> Result<bytes::Bytes, String> {
        let max = self.media.max_bytes;
        let mut response = client.get(url).send().await.map_err(|e| describe(&e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        if let Some(len) = response.content_length().filter(|n| *n > max) {
            return Err(format!("the server declares {len} bytes, over the {max}-byte limit (MEDIA_MAX_BYTES)"));
        }
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, self.timeout))? {
            if (buf.len() + chunk.len()) as u64 > max {
                return Err(format!("the file is over the {max}-byte limit (MEDIA_MAX_BYTES)"));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

/// Checks a URL the downloader is about to call: `http(s)`, no credentials,
/// and, when its host is an address literal (which skips the resolver), an
/// address webhooks could call too.
fn check_target(url: &url::Url, allow_loopback: bool) -> Result<(), String> {
    ssrf::check_shape(url.as_str())?;
    let ip: Option<std::net::IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(ip.into()),
        Some(url::Host::Ipv6(ip)) => Some(ip.into()),
        _ => None,
    };
    if let Some(why) = ip.and_then(|ip| ssrf::refusal(ip, allow_loopback)) {
        return Err(format!("it is {why}, which imports may not call"));
    }
    Ok(())
}

/// A reqwest error as one line, with its causes (the resolver's refusal,
/// the redirect policy's reason).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs());
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The imported records of `source` with a stored file, by import key.
pub(crate) fn hosted(conn: &mut crate::db::DbConnection, source: &str) -> diesel::QueryResult<HashMap<String, Hosted>> {
    Ok(crate::media::repo::hosted_imports(conn, source)?
        .into_iter()
        .filter_map(|row| Some((row.import_key.clone()?, Hosted::from_row(&row))))
        .collect())
}

/// Points URLs of hosted attachments at their copies here.
///
/// A URL matches an attachment's source URL by host and path (the scheme
/// and query aside, so `http:`/`https:` and `?w=300` both match). WordPress's
/// resized copies (`photo-300x200.jpg`) and wordpress.com's `?w=300` map to
/// the narrowest variant at least that wide, else the original.
#[derive(Debug, Default)]
pub struct Rewriter {
    base_url: String,
    by_url: HashMap<String, Hosted>,
}

impl Rewriter {
    /// A rewriter to `{base_url}/api/v1/media/{id}/file[/{variant}]` for `hosted`.
    pub fn new(base_url: &str, hosted: &HashMap<String, Hosted>) -> Self {
        let by_url = hosted.values().filter_map(|h| Some((url_key(h.source_url.as_deref()?)?.0, h.clone()))).collect();
        Self { base_url: base_url.trim_end_matches('/').to_owned(), by_url }
    }

    /// Whether there is nothing to rewrite to.
    pub fn is_empty(&self) -> bool {
        self.by_url.is_empty()
    }

    /// The hosted URL for `url`, when it is a hosted attachment's.
    pub fn lookup(&self, url: &str) -> Option<String> {
        let (key, width) = url_key(url)?;
        let (hosted, width) = match self.by_url.get(&key) {
            Some(h) => (h, width),
            None => {
                let (base, w) = strip_size_suffix(&key)?;
                (self.by_url.get(&base)?, Some(w))
            }
        };
        let file = crate::media::dto::file_url(&self.base_url, hosted.media_id);
        let variant = width
            .filter(|w| hosted.width.is_none_or(|full| *w < full))
            .and_then(|w| hosted.variants.iter().find(|(_, vw)| *vw >= w).map(|(name, _)| name.clone()));
        Some(match variant {
            Some(name) => format!("{file}/{name}"),
            None => file,
        })
    }

    /// `html` with every `http(s)://` URL of a hosted attachment replaced
    /// (in `src`, `srcset`, `href` and text alike).
    pub fn rewrite(&self, html: &str) -> String {
        if self.is_empty() {
            return html.to_owned();
        }
        let mut out = String::with_capacity(html.len());
        let mut last = 0;
        let mut at = 0;
        while let Some(found) = html[at..].find("http") {
            let start = at + found;
            let rest = &html[start..];
            if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                at = start + 4;
                continue;
            }
            let len = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')' | '[' | ']'))
                .unwrap_or(rest.len());
            let token = rest[..len].trim_end_matches([',', '.', ';']);
            if let Some(new) = self.lookup(token) {
                out.push_str(&html[last..start]);
                out.push_str(&new);
                last = start + token.len();
            }
            at = start + len.max(4);
        }
        out.push_str(&html[last..]);
        out
    }
}

/// `host[:port]/path` of an http(s) URL, and the `w` query parameter (a
/// requested width), or `None` when it is not such a URL.
fn url_key(raw: &str) -> Option<(String, Option<i32>)> {
    let raw = raw.replace("&amp;", "&");
    let url = url::Url::parse(&raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    let width = url.query_pairs().find(|(k, _)| k == "w").and_then(|(_, v)| v.parse::<i32>().ok()).filter(|w| *w > 0);
    Some((format!("{host}{}", url.path()), width))
}

/// `…/photo-300x200.jpg` → (`…/photo.jpg`, 300): WordPress's name for a
/// resized copy.
fn strip_size_suffix(key: &str) -> Option<(String, i32)> {
    let (stem, ext) = key.rsplit_once('.')?;
    if ext.contains('/') {
        return None;
    }
    let (base, size) = stem.rsplit_once('-')?;
    let (w, h) = size.split_once('x')?;
    let valid = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !valid(w) || !valid(h) {
        return None;
    }
    Some((format!("{base}.{ext}"), w.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosted(url: &str) -> HashMap<String, Hosted> {
        let h = Hosted {
            media_id: 9,
            source_url: Some(url.into()),
            mime_type: Some("image/jpeg".into()),
            kind: "image".into(),
            width: Some(1500),
            variants: vec![("w320".into(), 320), ("w640".into(), 640), ("w1280".into(), 1280)],
        };
        HashMap::from([("9".to_owned(), h)])
    }

    #[test]
    fn source_urls_sized_copies_and_srcset_point_at_the_hosted_copy() {
        let r = Rewriter::new("https://cms.test/", &hosted("https://old.test/2008/06/a.jpg"));
        let html = concat!(
            r#"<a href="https://old.test/2008/06/a.jpg"><img src="http://old.test/2008/06/a-300x200.jpg" "#,
            r#"srcset="https://old.test/2008/06/a-600x400.jpg 600w, https://old.test/2008/06/a.jpg?w=2000 2000w"></a>"#,
            r#"<img src="https://old.test/2008/06/other.jpg"> https://old.test/2008/06/a.jpg."#
        );
        let out = r.rewrite(html);
        let f = "https://cms.test/api/v1/media/9/file";
        assert_eq!(
            out,
            format!(
                r#"<a href="{f}"><img src="{f}/w320" srcset="{f}/w640 600w, {f} 2000w"></a><img src="https://old.test/2008/06/other.jpg"> {f}."#
            )
        );
    }

    #[test]
    fn only_wordpress_size_suffixes_are_stripped() {
        assert_eq!(strip_size_suffix("h/a-300x200.jpg"), Some(("h/a.jpg".into(), 300)));
        assert_eq!(strip_size_suffix("h/image-alignment-1200x4002.jpg"), Some(("h/image-alignment.jpg".into(), 1200)));
        assert_eq!(strip_size_suffix("h/a-x200.jpg"), None);
        assert_eq!(strip_size_suffix("h/2008-06/a"), None);
    }
}
