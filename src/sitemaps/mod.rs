//! Sitemaps (sitemaps.org protocol 0.9) and `robots.txt`.
//!
//! `/sitemap.xml` is always an index. Each source ([`repo::Source`]:
//! articles, authors, categories, tags) is split into files of at most
//! `SITEMAP_MAX_URLS` URLs (and at most 50 MB, see [`service::urls_per_file`]),
//! served at `/sitemaps/{source}-{n}.xml`. `/sitemap-news.xml` is a Google
//! News sitemap of the last 48 hours. URLs come from the `FRONTEND_*_URL`
//! patterns (`crate::feeds::links`).
//!
//! Adding a source (pages, say) means one more [`repo::Source`] variant, its
//! count and page queries in `repo`, and its URL pattern in `service`.

pub mod handlers;
pub mod repo;
pub mod service;

/// Registers `/sitemap.xml`, `/sitemaps/{file}`, `/sitemap-news.xml` and `/robots.txt`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::get_sitemap_index);
    cfg.service(handlers::get_sitemap);
    cfg.service(handlers::get_news_sitemap);
    cfg.service(handlers::get_robots);
}
