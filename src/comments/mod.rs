//! Reader comments, pingbacks and trackbacks, with moderation states.
//! Routes are nested under articles (`/articles/{slug}/comments`).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
