//! Page-number pagination shared by every list endpoint.
//!
//! Requests take `page` (1-based, default 1) and `per_page` (1–100, default 20).
//! Responses are `{"data": [...], "meta": {page, per_page, total, total_pages}}`
//! with an RFC 8288 `Link` header (`first`, `prev`, `next`, `last`). A page
//! past the end is a 200 with empty `data`.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};

/// Default `per_page`.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// Largest accepted `per_page`.
pub const MAX_PER_PAGE: i64 = 100;
/// Largest accepted `page`; keeps `OFFSET` arithmetic far from overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// Query parameters of list endpoints that take only paging. Values are
/// kept as strings so a bad one is reported by [`PageParams::parse`] by name.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number; default 1.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items per page, 1–100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

impl PageQuery {
    /// Validates the paging values.
    pub fn params(&self) -> Result<PageParams, ApiError> {
        PageParams::parse(self.page.as_deref(), self.per_page.as_deref())
    }
}

/// A validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageParams {
    /// 1-based page number.
    pub page: i64,
    /// Items per page, 1–100.
    pub per_page: i64,
}

impl PageParams {
    /// Parses the raw `page` and `per_page` query values; a bad value is a 400 naming it.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let page_n = match page {
            None => Some(1),
            Some(v) => parse_bounded(v, 1, MAX_PAGE),
        };
        if page_n.is_none() {
            errors.push(FieldError {
                field: "page".into(),
                message: format!("must be a whole number from 1 to {MAX_PAGE}"),
            });
        }
        let per_page_n = match per_page {
            None => Some(DEFAULT_PER_PAGE),
            Some(v) => parse_bounded(v, 1, MAX_PER_PAGE),
        };
        if per_page_n.is_none() {
            errors.push(FieldError {
                field: "per_page".into(),
                message: format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
            });
        }
        match (page_n, per_page_n) {
            (Some(page), Some(per_page)) => Ok(Self { page, per_page }),
            _ => Err(ApiError::BadRequest {
                detail: errors.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
                errors,
            }),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The `meta` object for a result set of `total` rows.
    pub fn meta(&self, total: i64) -> PageMeta {
        PageMeta {
            page: self.page,
            per_page: self.per_page,
            total,
            total_pages: (total + self.per_page - 1) / self.per_page,
        }
    }
}

fn parse_bounded(raw: &str, min: i64, max: i64) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| (min..=max).contains(n))
}

/// Paging metadata of a list response.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct PageMeta {
    /// The 1-based page returned; 0 on a cursor (`after`) page, which has no number.
    pub page: i64,
    /// Items per page requested.
    pub per_page: i64,
    /// Items matching the filters across all pages.
    pub total: i64,
    /// `ceil(total / per_page)`; 0 when nothing matches.
    pub total_pages: i64,
}

/// Defines a list envelope `{data: [T], meta: PageMeta}` for one item type.
#[macro_export]
macro_rules! list_envelope {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// The items on this page.
            pub data: Vec<$item>,
            /// Paging metadata.
            pub meta: $crate::pagination::PageMeta,
        }
    };
}

/// Defines a single-item envelope `{data: T}`.
#[macro_export]
macro_rules! data_envelope {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// The resource.
            pub data: $item,
        }
    };
}

/// Builds the RFC 8288 `Link` header value for `meta`, against `base_url`
/// (`PUBLIC_BASE_URL`), keeping every other query parameter of the request.
pub fn link_header(base_url: &str, req: &HttpRequest, meta: &PageMeta) -> Option<String> {
    link_header_with(base_url, req, meta, None)
}

fn href_without(base_url: &str, req: &HttpRequest, drop: &[&str], add: (&str, &str)) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if !drop.contains(&k.as_ref()) {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair(add.0, add.1);
    format!("<{base_url}{}?{}>", req.path(), q.finish())
}

/// [`link_header`], except that `next`, when `next_after` is given, carries
/// the keyset cursor (`after=`) instead of a page number: lists whose next
/// page would be deeper than the offset limit switch to the cursor there.
pub fn link_header_with(
    base_url: &str,
    req: &HttpRequest,
    meta: &PageMeta,
    next_after: Option<&str>,
) -> Option<String> {
    // An empty list still has a first (and last) page: the one just read.
    let last = meta.total_pages.max(1);
    let href = |page: i64| href_without(base_url, req, &["page", "after"], ("page", &page.to_string()));
    let mut links = vec![format!("{}; rel=\"first\"", href(1))];
    if meta.page > 1 {
        links.push(format!("{}; rel=\"prev\"", href((meta.page - 1).min(last))));
    }
    if let Some(after) = next_after {
        links.push(format!("{}; rel=\"next\"", href_without(base_url, req, &["page", "after"], ("after", after))));
    } else if meta.page < last {
        links.push(format!("{}; rel=\"next\"", href(meta.page + 1)));
    }
    links.push(format!("{}; rel=\"last\"", href(last)));
    Some(links.join(", "))
}

/// The `Link` header of a keyset (cursor) page: `first` (page 1) and, when
/// more rows follow, `next` with the cursor in `after`.
pub fn cursor_link_header(base_url: &str, req: &HttpRequest, next_after: Option<&str>) -> String {
    let mut links = vec![format!("{}; rel=\"first\"", href_without(base_url, req, &["page", "after"], ("page", "1")))];
    if let Some(after) = next_after {
        links.push(format!("{}; rel=\"next\"", href_without(base_url, req, &["page", "after"], ("after", after))));
    }
    links.join(", ")
}

/// A 200 JSON response with `body` and, when given, a `Link` header.
pub fn respond_with_link<T: Serialize>(link: Option<String>, body: &T) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(link) = link {
        res.insert_header((LINK, link));
    }
    res.json(body)
}

/// A 200 response of JSON bytes serialized elsewhere, with a `Link` header
/// when given.
pub fn respond_json_bytes(link: Option<String>, json: Vec<u8>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(link) = link {
        res.insert_header((LINK, link));
    }
    res.content_type(actix_web::http::header::ContentType::json()).body(json)
}

/// A 200 JSON response for a list envelope, with its `Link` header.
pub fn respond<T: Serialize>(base_url: &str, req: &HttpRequest, meta: &PageMeta, body: &T) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(link) = link_header(base_url, req, meta) {
        res.insert_header((LINK, link));
    }
    res.json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_non_numeric_values_naming_the_parameter() {
        for (page, per_page, field) in [
            (Some("0"), None, "page"),
            (Some("-1"), None, "page"),
            (Some("abc"), None, "page"),
            (Some(""), None, "page"),
            (None, Some("1000"), "per_page"),
            (None, Some("0"), "per_page"),
            (None, Some("1.5"), "per_page"),
        ] {
            match PageParams::parse(page, per_page) {
                Err(ApiError::BadRequest { errors, .. }) => assert_eq!(errors[0].field, field),
                other => panic!("{page:?}/{per_page:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn meta_rounds_total_pages_up() {
        let p = PageParams::parse(Some("2"), Some("20")).unwrap();
        assert_eq!(p.offset(), 20);
        assert_eq!(p.meta(41).total_pages, 3);
        assert_eq!(p.meta(0).total_pages, 0);
    }
}
