//! Queries on `mails`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Template;
use crate::db::schema::mails;
use crate::db::DbConnection;

/// One `mails` row. `params` may hold secrets (links with tokens) until the
/// mail is sent, when they are cleared.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = mails)]
pub struct MailRow {
    pub id: i64,
    pub recipient: String,
    pub template: String,
    pub params: String,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Inserts a mail; returns its id.
pub fn insert(
    conn: &mut DbConnection,
    recipient: &str,
    template: Template,
    params: &serde_json::Value,
    message_id: &str,
) -> QueryResult<i64> {
    diesel::insert_into(mails::table)
        .values((
            mails::recipient.eq(recipient),
            mails::template.eq(template.as_str()),
            mails::params.eq(params.to_string()),
            mails::message_id.eq(message_id),
            mails::created_at.eq(crate::db::now()),
        ))
        .returning(mails::id)
        .get_result(conn)
}

/// The mail `id`, if it exists.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<MailRow>> {
    mails::table.find(id).select(MailRow::as_select()).first(conn).optional()
}

/// Marks mail `id` sent and forgets its parameters (they may hold tokens).
pub fn mark_sent(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(mails::table.find(id))
        .set((mails::sent_at.eq(Some(crate::db::now())), mails::params.eq("{}")))
        .execute(conn)
        .map(|_| ())
}
