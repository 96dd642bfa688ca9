//! The route table: every `/api/v1` resource registers its handlers here.
//! The server, the tests and `broadsheet openapi` all build from this one table.

/// Registers every `/api/v1` route.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    crate::auth::configure(cfg);
    crate::users::configure(cfg);
    crate::api_keys::configure(cfg);
    crate::articles::configure(cfg);
    crate::series::configure(cfg);
    crate::authors::configure(cfg);
    crate::categories::configure(cfg);
    crate::tags::configure(cfg);
    crate::media::configure(cfg);
    crate::jobs::configure(cfg);
    crate::subscriptions::configure(cfg);
}
