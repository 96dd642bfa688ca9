//! The route table: every `/api/v1` resource registers its handlers here.
//! The server, the tests and `broadsheet openapi` all build from this one table.

/// Registers every `/api/v1` route.
pub fn configure_api(cfg: &mut impl crate::http::RouteConfig) {
    crate::auth::configure(cfg);
    crate::users::configure(cfg);
    crate::api_keys::configure(cfg);
    crate::articles::configure(cfg);
    crate::series::configure(cfg);
    crate::pages::configure(cfg);
    crate::authors::configure(cfg);
    crate::taxonomy::configure(cfg);
    crate::media::configure(cfg);
    crate::jobs::configure(cfg);
    crate::subscriptions::configure(cfg);
    crate::comments::configure(cfg);
    crate::readers::configure(cfg);
    crate::mailings::configure(cfg);
    crate::webhooks::configure(cfg);
}

/// Registers the routes served at the root rather than under `/api/v1`:
/// feeds, sitemaps and `robots.txt`, where readers and crawlers look for them.
pub fn configure_root(cfg: &mut impl crate::http::RouteConfig) {
    crate::feeds::configure(cfg);
    crate::sitemaps::configure(cfg);
}
