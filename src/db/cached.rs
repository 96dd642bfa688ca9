//! Query fragments whose SQL text does not depend on their values, so diesel
//! prepares each statement once per connection and keeps it in its
//! statement cache.
//!
//! diesel's `eq_any(vec)` writes `IN (?, ?, …)` on SQLite, one placeholder
//! per value, and marks the statement as not cacheable; `sql::<_>()`
//! literals are never cached either. On SQLite a list page then parsed and
//! planned every one of its statements on every request: that was 17% of an
//! uncached list request's CPU (perf, 2026-12-02). [`any_of`] binds the whole
//! list as one value instead: `col IN (SELECT value FROM json_each(?))` on
//! SQLite (a JSON array), `col = ANY(?)` on PostgreSQL (an array, as diesel
//! itself does there).

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, Bool, SingleValue, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

type MultiBackend = <super::DbConnection as diesel::Connection>::Backend;

/// `column` is one of `values` (see the module docs). An empty list matches
/// nothing, as `eq_any` does.
pub fn any_of<C, T>(column: C, values: &[T]) -> AnyOf<C, T>
where
    T: serde::Serialize + Clone,
{
    let json = serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned());
    AnyOf { column, values: values.to_vec(), json }
}

/// See [`any_of`].
#[derive(Debug, Clone)]
pub struct AnyOf<C, T> {
    column: C,
    values: Vec<T>,
    json: String,
}

impl<C: Expression, T> Expression for AnyOf<C, T> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, T, QS> AppearsOnTable<QS> for AnyOf<C, T> where Self: Expression {}

impl<C: SelectableExpression<QS>, T, QS> SelectableExpression<QS> for AnyOf<C, T> where Self: AppearsOnTable<QS> {}

impl<C: ValidGrouping<GB>, T, GB> ValidGrouping<GB> for AnyOf<C, T> {
    type IsAggregate = C::IsAggregate;
}

/// [`AnyOf`]'s query id: its SQL text depends on the column only, never on
/// the values (one bind), so a statement holding it can be cached by type
/// (see `db::load_direct`).
pub struct AnyOfId<C>(std::marker::PhantomData<C>);

impl<C: QueryId, T> QueryId for AnyOf<C, T> {
    type QueryId = AnyOfId<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>, T> QueryFragment<Sqlite> for AnyOf<C, T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, T> QueryFragment<Pg> for AnyOf<C, T>
where
    C: QueryFragment<Pg> + Expression,
    C::SqlType: SingleValue,
    Pg: diesel::sql_types::HasSqlType<C::SqlType>,
    Vec<T>: ToSql<Array<C::SqlType>, Pg>,
    T: std::fmt::Debug,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<C::SqlType>, _>(&self.values)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C, T> QueryFragment<MultiBackend> for AnyOf<C, T>
where
    Self: QueryFragment<Pg> + QueryFragment<Sqlite>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

/// One piece of a [`FixedSql`]: SQL text, or a bound value.
#[derive(Debug, Clone)]
enum Piece {
    Sql(std::borrow::Cow<'static, str>),
    Time(chrono::NaiveDateTime),
    Int(i64),
    Text(String),
}

/// A SQL fragment written as text with bound values, like diesel's
/// `sql::<ST>("…").bind::<_, _>(v).sql("…")`, but cacheable: its text must
/// never be built from a value (only from a fixed set of choices, such as a
/// comparison operator), so that each shape is prepared once.
#[derive(Debug, Clone)]
pub struct FixedSql<ST> {
    pieces: Vec<Piece>,
    sql_type: std::marker::PhantomData<ST>,
}

/// Starts a [`FixedSql`] with `sql`.
pub fn fixed_sql<ST>(sql: impl Into<std::borrow::Cow<'static, str>>) -> FixedSql<ST> {
    FixedSql { pieces: vec![Piece::Sql(sql.into())], sql_type: std::marker::PhantomData }
}

impl<ST> FixedSql<ST> {
    /// Appends SQL text (never built from a value).
    pub fn sql(mut self, sql: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.pieces.push(Piece::Sql(sql.into()));
        self
    }

    /// Appends a bound timestamp.
    pub fn time(mut self, t: chrono::NaiveDateTime) -> Self {
        self.pieces.push(Piece::Time(t));
        self
    }

    /// Appends a bound 64-bit integer.
    pub fn int(mut self, i: i64) -> Self {
        self.pieces.push(Piece::Int(i));
        self
    }

    /// Appends a bound text value.
    pub fn text(mut self, s: impl Into<String>) -> Self {
        self.pieces.push(Piece::Text(s.into()));
        self
    }
}

impl<ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType> Expression for FixedSql<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for FixedSql<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for FixedSql<ST> where Self: AppearsOnTable<QS> {}

impl<ST, GB> ValidGrouping<GB> for FixedSql<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<ST> QueryId for FixedSql<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB> QueryFragment<DB> for FixedSql<ST>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>
        + diesel::sql_types::HasSqlType<Text>,
    chrono::NaiveDateTime: ToSql<diesel::sql_types::Timestamp, DB>,
    i64: ToSql<diesel::sql_types::BigInt, DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(s) => out.push_sql(s),
                Piece::Time(t) => out.push_bind_param::<diesel::sql_types::Timestamp, _>(t)?,
                Piece::Int(i) => out.push_bind_param::<diesel::sql_types::BigInt, _>(i)?,
                Piece::Text(s) => out.push_bind_param::<Text, _>(s)?,
            }
        }
        Ok(())
    }
}
