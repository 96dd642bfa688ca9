//! Taxonomy: categories (a tree) and tags (flat). The two share their
//! storage shape, rules and handlers' bodies; only a category's parent and a
//! tag's merge are kind-specific. URLs stay `/api/v1/categories` and
//! `/api/v1/tags`.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

/// Which taxonomy a term belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `categories`: hierarchical, through `parent_id`.
    Category,
    /// `tags`: flat; may be merged into one another.
    Tag,
}

impl Kind {
    /// The collection's path segment and table name: `categories` or `tags`.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Category => "categories",
            Self::Tag => "tags",
        }
    }

    /// The singular noun for messages: `category` or `tag`.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Tag => "tag",
        }
    }
}

/// Registers the categories and tags routes under `/api/v1`.
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_categories)
        .service(handlers::create_category)
        .service(handlers::get_category)
        .service(handlers::update_category)
        .service(handlers::delete_category)
        .service(handlers::list_tags)
        .service(handlers::create_tag)
        .service(handlers::get_tag)
        .service(handlers::update_tag)
        .service(handlers::delete_tag)
        .service(handlers::merge_tag);
}
