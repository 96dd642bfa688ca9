//! HTTP handlers for comments.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::dto::{Comment, CommentList};
use super::repo;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::pagination::{self, PageQuery};

/// List the approved comments of a published article, oldest first.
///
/// Pingbacks and trackbacks are left out; replies carry `parent_id`. A
/// password-protected article shows an empty list.
#[utoipa::path(
    tag = "comments",
    params(("article" = String, Path, description = "Article id (all digits) or slug"), PageQuery),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A page of comments; `Link` header has first/prev/next/last", body = CommentList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article here", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{article}/comments")]
pub async fn list_article_comments(
    state: web::Data<AppState>,
    req: HttpRequest,
    _auth: crate::auth::MaybeAuthUser,
    slug: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.params()?;
    let slug = slug.into_inner();
    let lookup = slug.clone();
    let now = crate::db::now();
    let (rows, total) = crate::db::run(&state.pool, move |c| {
        let key = crate::slugs::IdOrSlug::parse(&lookup);
        let article = crate::articles::repo::find_by_key(c, &key)?
            .filter(|a| a.is_public(now))
            .ok_or(diesel::result::Error::NotFound)?;
        if article.password_protected {
            // Like its body, a protected article's discussion is not public.
            return Ok((Vec::new(), 0));
        }
        Ok(repo::list_approved(c, article.id, &page)?)
    })
    .await
    .map_err(|e| e.with_not_found(format!("no published article `{slug}`")))?;
    let meta = page.meta(total);
    let body = CommentList { data: rows.into_iter().map(Comment::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}
