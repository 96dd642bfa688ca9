//! Series: ordered collections of articles (an investigation in five parts).

pub mod handlers;
pub mod repo;

/// Registers the series routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_series)
        .service(handlers::create_series)
        .service(handlers::get_series)
        .service(handlers::update_series)
        .service(handlers::delete_series);
}
