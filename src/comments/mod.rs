//! Reader comments, pingbacks and trackbacks: posting (readers and staff),
//! the moderation policy and spam checks (`policy`), moderation, the
//! author's edit window, votes, and the public threaded view.
//!
//! Errors: `repo` returns `QueryResult`; `service` and `handlers` return
//! `ApiError` (bad fields are 400s naming the field, a bad parent a 422
//! naming `parent_id`, a bad edit token a 400 naming `X-Edit-Token`, a
//! bad form token a 400 naming `form_token`).
//!
//! Also here: signed form tokens (`form`), the Akismet-compatible checker
//! run by the `comment_spam_check` job (`akismet`), and the generated
//! avatars behind `avatar_url` (`avatar`).

pub mod akismet;
pub mod avatar;
pub mod dto;
pub mod form;
pub mod handlers;
pub mod model;
pub mod notify;
pub mod policy;
pub mod render;
pub mod repo;
pub mod service;

/// Registers comment routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    // `list_article_comments` is registered with the article routes.
    cfg.service(handlers::get_comment_form_token)
        .service(handlers::get_avatar)
        .service(handlers::create_comment)
        .service(handlers::list_comments)
        .service(handlers::bulk_update_comments)
        .service(handlers::get_comment)
        .service(handlers::update_comment)
        .service(handlers::delete_comment)
        .service(handlers::vote_comment)
        .service(handlers::unvote_comment);
}
