//! Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the whole site and for each
//! category, tag, author and series (`/feeds/{format}` and
//! `/feeds/{format}/{kind}/{slug}`).
//!
//! Only public articles that are not password-protected appear; a feed never
//! carries a draft, a scheduled article before its time or a protected body.
//! `links` builds front-end URLs from the `FRONTEND_*_URL` patterns and is
//! shared with `crate::sitemaps`.

pub mod handlers;
pub mod links;
pub mod repo;
pub mod service;
pub mod write;

/// Registers the feed routes (outside `/api/v1`: feed readers expect them at the root).
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::get_site_feed);
    cfg.service(handlers::get_scoped_feed);
}
