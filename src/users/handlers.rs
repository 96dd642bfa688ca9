//! HTTP handlers for `/api/v1/users` (admins only).

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use diesel::Connection;

use super::dto::{CreateUser, UpdateUser, User, UserEnvelope, UserList};
use super::model::{NewUser, UserChanges};
use super::repo;
use crate::auth::permissions::Role;
use crate::auth::{password, Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::pagination::{self, PageQuery};

/// A plausible email: one `@`, non-empty local part, a dotted domain, ≤ 254 bytes.
pub fn validate_email(email: &str) -> Result<(), ApiError> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && crate::mail::deliverable(email);
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("email", "is not a valid email address"))
    }
}

/// List users.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageUsers)?;
    let page = query.params()?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &page)?)).await?;
    let meta = page.meta(total);
    let body = UserList { data: rows.into_iter().map(User::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Get one user.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", minimum = 1)),
    responses(
        (status = 200, description = "The user", body = UserEnvelope, links(
            ("UpdateUser" = (operation_id = "update_user", parameters(("id" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageUsers)?;
    let id = id.get();
    let user = crate::db::run(&state.pool, move |c| Ok(repo::find(c, id)?))
        .await
        .map_err(|e| e.with_not_found(format!("no user with id {id}")))?;
    Ok(HttpResponse::Ok().json(UserEnvelope { data: User::from(user) }))
}

/// Create a user, with a password or by invitation.
///
/// Every role writes, so unless `author_id` names an existing profile a new
/// author profile is created and linked in the same transaction (name from
/// `name`, else the email's local part; a unique slug from it). With
/// `invite: true` (and no `password`) the user is mailed a single-use link to
/// choose their password (`POST /auth/password-reset/confirm`).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created; `Location` names it", body = UserEnvelope, links(
            ("GetUser" = (operation_id = "get_user", parameters(("id" = "$response.body#/data/id")))),
            ("UpdateUser" = (operation_id = "update_user", parameters(("id" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken, or author already linked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`author_id` names no author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::json::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageUsers)?;
    let body = body.into_inner();
    if body.role == Role::Admin {
        auth.0.user().map_err(|_| ApiError::Forbidden("API keys may not create admins".into()))?;
    }
    let email = repo::normalize_email(&body.email);
    validate_email(&email)?;
    check_name(body.name.as_deref())?;
    let (hash, invite) = match (body.password, body.invite) {
        (Some(p), false) => {
            password::validate(&p).map_err(|m| ApiError::invalid("password", m))?;
            (password::hash_async(p).await?, false)
        }
        (None, false) => return Err(ApiError::invalid("password", "is required unless `invite` is true")),
        (Some(_), true) => return Err(ApiError::invalid("password", "must be omitted when `invite` is true")),
        // An invitee's password is a random secret nobody knows (hashed
        // like any other, so logging in as them costs the usual time) until
        // they choose their own through the invitation link.
        (None, true) => (password::hash_async(crate::auth::tokens::random_secret()).await?, true),
    };
    let (role, author_id, name) = (body.role, body.author_id, body.name);
    let st = state.clone();
    let user = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            let user = insert_validated(c, email, hash, role, author_id, name.as_deref())?;
            if invite {
                crate::auth::recovery::invite(c, &st.settings, &user)?;
            }
            Ok(user)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserEnvelope { data: User::from(user) }))
}

/// Creates a user after validating every field (shared by the API and
/// `broadsheet users create`). Without `author_id`, an author profile named
/// `name` (default: the email's local part) is created and linked.
pub fn create(
    c: &mut crate::db::DbConnection,
    email: &str,
    password_plain: &str,
    role: Role,
    author_id: Option<i64>,
    name: Option<&str>,
) -> Result<super::model::UserRow, ApiError> {
    let email = repo::normalize_email(email);
    validate_email(&email)?;
    password::validate(password_plain).map_err(|m| ApiError::invalid("password", m))?;
    check_name(name)?;
    let hash = password::hash(password_plain)?;
    insert_validated(c, email, hash, role, author_id, name)
}

fn check_name(name: Option<&str>) -> Result<(), ApiError> {
    let mut check = crate::authors::dto::ProfileCheck::new();
    if let Some(n) = name {
        check.name(n);
    }
    check.finish()
}

/// Creates the author profile a new writer is linked to; returns its id.
fn create_profile(c: &mut crate::db::DbConnection, email: &str, name: Option<&str>) -> Result<i64, ApiError> {
    use crate::authors::{model::NewAuthor, repo as authors_repo};
    let local = email.split('@').next().unwrap_or(email);
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(local);
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    crate::slugs::lock_for(c, "authors")?;
    let base =
        Some(crate::slugs::slugify(&name)).filter(|s| !s.is_empty() && s != "me").unwrap_or_else(|| "author".into());
    let slug = crate::slugs::unique(&base, |s| authors_repo::slug_taken(c, s, None))?;
    let now = crate::db::now();
    let new = NewAuthor {
        slug,
        display_name: name,
        email: None,
        bio: None,
        website: None,
        import_source: None,
        import_key: None,
        created_at: now,
        updated_at: now,
    };
    let id = authors_repo::insert(c, &new)?;
    let data = serde_json::json!({"id": id, "slug": new.slug, "name": new.display_name});
    crate::webhooks::emit(c, crate::webhooks::Event::AuthorCreated, data)?;
    Ok(id)
}

fn insert_validated(
    c: &mut crate::db::DbConnection,
    email: String,
    hash: String,
    role: Role,
    author_id: Option<i64>,
    name: Option<&str>,
) -> Result<super::model::UserRow, ApiError> {
    c.transaction(|c| {
        if repo::find_by_email(c, &email)?.is_some() {
            return Err(ApiError::Conflict(format!("email {email} is already taken by another user")));
        }
        let author_id = match author_id {
            Some(a) => {
                check_author(c, a, 0)?;
                a
            }
            None => create_profile(c, &email, name)?,
        };
        let author_id = Some(author_id);
        let now = crate::db::now();
        let new = NewUser {
            email,
            password_hash: hash,
            role: role.as_str().into(),
            author_id,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        Ok(repo::insert(c, &new)?)
    })
}

fn check_author(c: &mut crate::db::DbConnection, author_id: i64, user_id: i64) -> Result<(), ApiError> {
    use crate::db::schema::authors;
    use diesel::prelude::*;
    let exists: bool = diesel::select(diesel::dsl::exists(authors::table.find(author_id))).get_result(c)?;
    if !exists {
        return Err(ApiError::Unprocessable(format!("author_id {author_id} names no author")));
    }
    if repo::author_linked_elsewhere(c, author_id, user_id)? {
        return Err(ApiError::Conflict(format!("author_id {author_id} is already linked to another user")));
    }
    Ok(())
}

/// Change a user's role, link an author profile, or disable the account.
///
/// Disabling ends the user's sessions. The last enabled admin cannot be
/// demoted or disabled (409).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", minimum = 1)),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = UserEnvelope, links(
            ("GetUser" = (operation_id = "get_user", parameters(("id" = "$response.body#/data/id")))),
        )),
        (status = 400, description = "Invalid field (see `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no enabled admin, or author already linked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`author_id` names no author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: Id,
    body: crate::json::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageUsers)?;
    let id = id.get();
    let body = body.into_inner();
    let by_key = auth.0.user().is_err();
    if by_key && body.role == Some(Role::Admin) {
        return Err(ApiError::Forbidden("API keys may not make admins".into()));
    }
    let user = crate::db::write(&state.pool, move |c| {
        c.transaction(|c| {
            repo::lock_admins(c)?;
            let current =
                repo::find(c, id).map_err(|e| ApiError::from(e).with_not_found(format!("no user with id {id}")))?;
            if by_key && current.role == "admin" {
                return Err(ApiError::Forbidden("API keys may not change admins".into()));
            }
            let loses_admin = current.role == "admin"
                && !current.disabled
                && (body.role.is_some_and(|r| r != Role::Admin) || body.disabled == Some(true));
            if loses_admin && repo::count_active_admins(c)? <= 1 {
                return Err(ApiError::Conflict("this is the last enabled admin; promote another admin first".into()));
            }
            if let Some(Some(a)) = body.author_id {
                check_author(c, a, id)?;
            }
            let now = crate::db::now();
            let changes = UserChanges {
                role: body.role.map(|r| r.as_str().to_owned()),
                author_id: body.author_id,
                disabled: body.disabled,
                password_hash: None,
                updated_at: Some(now),
            };
            let user = repo::update(c, id, &changes)?;
            if body.disabled == Some(true) {
                crate::auth::repo::revoke_user_sessions(c, id, now)?;
            }
            Ok(user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { data: User::from(user) }))
}
