//! Which database errors mean "the database is unavailable right now" (a 503
//! `unavailable` with `Retry-After`) rather than a bug (a 500), and the real
//! cause behind diesel's nested transaction errors.
//!
//! [`is_unavailable`] is the one classifier. diesel 2.3 exposes a
//! [`DatabaseErrorKind`] and the message, never the PostgreSQL SQLSTATE nor
//! the SQLite result code, so kinds are used where diesel sets them
//! (`ClosedConnection` for SQLSTATE class 08 and dead sockets,
//! `ReadOnlyTransaction` for 25006) and messages elsewhere:
//! - SQLite's messages are fixed English strings from `sqlite3_errstr`
//!   (SQLITE_BUSY, LOCKED, FULL, READONLY, IOERR, NOMEM, CANTOPEN);
//! - PostgreSQL's come from the server in its `lc_messages` language: the
//!   matches below are the English texts of SQLSTATE 57P01–57P03, 53100,
//!   53200, 53300 and libpq's own connection-loss messages. A server with
//!   translated messages still gets 503s for lost connections (diesel's
//!   `ClosedConnection`), but its disk-full and out-of-memory errors are 500s.
//!
//! diesel can hide the cause: when a statement fails inside a transaction
//! and SQLite has already rolled the transaction back itself (it does so on
//! SQLITE_FULL, IOERR, BUSY and NOMEM), diesel's `ROLLBACK` fails with
//! "cannot rollback - no transaction is active" and that error replaces the
//! statement's. So every connection reports the outage errors it sees to
//! [`record`], per thread, and `db::run` asks [`finish`] what the unit of work
//! it just ran saw ([`start`] clears it).

use std::cell::RefCell;

use diesel::result::{DatabaseErrorKind, Error};

/// Message fragments that mean the database cannot serve us now, with
/// whether the connection itself is gone (so the pool must not reuse it).
const UNAVAILABLE_MESSAGES: &[(&str, bool)] = &[
    // SQLite (sqlite3_errstr texts).
    ("database is locked", false),       // SQLITE_BUSY
    ("database table is locked", false), // SQLITE_LOCKED
    ("database schema is locked", false),
    ("database is busy", false),
    ("database or disk is full", false),             // SQLITE_FULL
    ("attempt to write a readonly database", false), // SQLITE_READONLY
    ("disk I/O error", false),                       // SQLITE_IOERR
    ("unable to open database file", false),         // SQLITE_CANTOPEN
    ("out of memory", false),                        // SQLITE_NOMEM; PostgreSQL 53200
    // PostgreSQL server messages.
    ("terminating connection due to administrator command", true), // 57P01
    ("terminating connection because of crash of another server process", true), // 57P02
    ("the database system is starting up", true),                  // 57P03
    ("the database system is shutting down", true),
    ("the database system is in recovery mode", true),
    ("the database system is not yet accepting connections", true),
    ("the database system is not accepting connections", true),
    ("No space left on device", false),        // 53100 "could not extend file …"
    ("sorry, too many clients already", true), // 53300
    ("remaining connection slots are reserved", true),
    ("in a read-only transaction", false), // 25006 "cannot execute INSERT in a read-only transaction"
    // libpq, when the socket is gone.
    ("server closed the connection unexpectedly", true),
    ("no connection to the server", true),
    ("could not receive data from server", true),
    ("could not send data to server", true),
    ("connection to server was lost", true),
    ("SSL SYSCALL error", true),
    ("SSL connection has been closed unexpectedly", true),
];

/// Why a database error means "unavailable", when it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The connection is gone (closed by the server, the network, a
    /// restart): the pool must discard it; a new one may work.
    ConnectionLost,
    /// The database refuses or cannot do the work now (locked, full, read
    /// only, out of memory, I/O error); the connection itself is fine.
    Refused,
}

/// Classifies one database error by its diesel kind and message; `None`
/// means it is not an outage (a constraint, a bug: the caller decides).
pub fn is_unavailable(kind: DatabaseErrorKind, message: &str) -> Option<Unavailable> {
    match kind {
        DatabaseErrorKind::ClosedConnection => return Some(Unavailable::ConnectionLost),
        DatabaseErrorKind::ReadOnlyTransaction => return Some(Unavailable::Refused),
        DatabaseErrorKind::UniqueViolation
        | DatabaseErrorKind::ForeignKeyViolation
        | DatabaseErrorKind::NotNullViolation
        | DatabaseErrorKind::CheckViolation
        | DatabaseErrorKind::RestrictViolation
        | DatabaseErrorKind::ExclusionViolation => return None,
        _ => {}
    }
    UNAVAILABLE_MESSAGES.iter().find(|(fragment, _)| message.contains(fragment)).map(|(_, lost)| {
        if *lost {
            Unavailable::ConnectionLost
        } else {
            Unavailable::Refused
        }
    })
}

/// The error inside `e` that makes it an outage, unwrapping diesel's
/// `RollbackErrorOnCommit` (the commit's error first, then the rollback's).
/// `BrokenTransactionManager` counts as a lost connection: diesel sets it
/// when a connection failed mid-transaction, and only a new connection helps.
pub fn cause(e: &Error) -> Option<(Unavailable, &Error)> {
    match e {
        Error::DatabaseError(kind, info) => is_unavailable(*kind, info.message()).map(|u| (u, e)),
        Error::RollbackErrorOnCommit { rollback_error, commit_error } => {
            cause(commit_error).or_else(|| cause(rollback_error))
        }
        Error::BrokenTransactionManager => Some((Unavailable::ConnectionLost, e)),
        _ => None,
    }
}

/// The first outage error seen on this thread since [`start`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Its classification.
    pub kind: Unavailable,
    /// The database's message, e.g. `database or disk is full`.
    pub message: String,
}

thread_local! {
    static SEEN: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

/// Notes `e` if it is an outage. The first one since [`start`] is kept as
/// the cause (later ones, such as a failed `ROLLBACK`, are consequences),
/// but a lost connection seen later still marks the connection lost.
/// Called by the connections' instrumentation and by the conversion into
/// `ApiError` (diesel's SQLite connection does not report errors of
/// statements read row by row, such as `INSERT … RETURNING`, to the
/// instrumentation).
pub fn record(e: &Error) {
    if let Some((kind, cause)) = cause(e) {
        SEEN.with(|s| {
            let mut s = s.borrow_mut();
            match s.as_mut() {
                None => *s = Some(Seen { kind, message: cause.to_string() }),
                Some(first) if kind == Unavailable::ConnectionLost => first.kind = kind,
                Some(_) => {}
            }
        });
    }
}

/// Begins a unit of work on this thread: forgets what was seen before.
pub fn start() {
    SEEN.with(|s| s.borrow_mut().take());
}

/// Whether this thread's unit of work lost its connection (read by the
/// pool when the connection is returned, on the same thread).
pub fn connection_lost() -> bool {
    SEEN.with(|s| s.borrow().as_ref().is_some_and(|s| s.kind == Unavailable::ConnectionLost))
}

/// Ends the unit of work begun by [`start`], returning the first outage seen.
pub fn finish() -> Option<Seen> {
    SEEN.with(|s| s.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;
    use DatabaseErrorKind as K;

    #[test]
    fn each_outage_message_and_kind_is_classified() {
        use Unavailable::{ConnectionLost as Lost, Refused};
        let table: &[(K, &str, Option<Unavailable>)] = &[
            // SQLite
            (K::Unknown, "database is locked", Some(Refused)),
            (K::Unknown, "database table is locked", Some(Refused)),
            (K::Unknown, "database or disk is full", Some(Refused)),
            (K::Unknown, "attempt to write a readonly database", Some(Refused)),
            (K::Unknown, "disk I/O error", Some(Refused)),
            (K::Unknown, "out of memory", Some(Refused)),
            (K::Unknown, "unable to open database file", Some(Refused)),
            // PostgreSQL, by kind
            (K::ClosedConnection, "anything at all", Some(Lost)),
            (K::ReadOnlyTransaction, "cannot execute INSERT in a read-only transaction", Some(Refused)),
            // PostgreSQL, by message
            (K::Unknown, "terminating connection due to administrator command", Some(Lost)),
            (K::Unknown, "terminating connection because of crash of another server process", Some(Lost)),
            (K::Unknown, "the database system is starting up", Some(Lost)),
            (K::Unknown, "the database system is shutting down", Some(Lost)),
            (K::Unknown, "the database system is in recovery mode", Some(Lost)),
            (K::Unknown, "could not extend file \"base/16384/16385\": No space left on device", Some(Refused)),
            (K::Unknown, "out of memory", Some(Refused)),
            (K::Unknown, "sorry, too many clients already", Some(Lost)),
            (K::Unknown, "cannot execute UPDATE in a read-only transaction", Some(Refused)),
            (K::Unknown, "server closed the connection unexpectedly", Some(Lost)),
            (K::Unknown, "no connection to the server\n", Some(Lost)),
            (K::Unknown, "could not receive data from server: Connection reset by peer", Some(Lost)),
            // Not outages
            (K::Unknown, "cannot rollback - no transaction is active", None),
            (K::Unknown, "no such table: articles", None),
            (K::Unknown, "database disk image is malformed", None),
            (K::Unknown, "syntax error at or near \"SELEC\"", None),
            (K::Unknown, "cannot execute DROP TABLE because other objects depend on it", None),
            (K::SerializationFailure, "could not serialize access due to concurrent update", None),
            (K::UniqueViolation, "database is locked", None),
            (K::ForeignKeyViolation, "FOREIGN KEY constraint failed", None),
            (K::CheckViolation, "CHECK constraint failed: status", None),
        ];
        for (kind, message, want) in table {
            assert_eq!(is_unavailable(*kind, message), *want, "{kind:?} {message:?}");
        }
    }

    fn db(kind: K, message: &str) -> Box<Error> {
        Box::new(Error::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn the_cause_inside_a_failed_commit_and_rollback_is_found() {
        let e = Error::RollbackErrorOnCommit {
            rollback_error: db(K::Unknown, "cannot rollback - no transaction is active"),
            commit_error: db(K::Unknown, "database or disk is full"),
        };

        let (kind, found) = cause(&e).expect("an outage");

        assert_eq!(kind, Unavailable::Refused);
        assert_eq!(found.to_string(), "database or disk is full");
        assert_eq!(cause(&Error::BrokenTransactionManager).map(|c| c.0), Some(Unavailable::ConnectionLost));
        assert!(cause(&Error::NotFound).is_none() && cause(&Error::RollbackTransaction).is_none());
    }

    #[test]
    fn the_first_outage_of_a_unit_of_work_is_kept() {
        start();
        record(&Error::NotFound);
        record(&db(K::Unknown, "database or disk is full"));
        let lost_before = connection_lost();
        record(&db(K::ClosedConnection, "server closed the connection unexpectedly"));

        assert!(!lost_before && connection_lost());
        assert_eq!(
            finish(),
            Some(Seen { kind: Unavailable::ConnectionLost, message: "database or disk is full".into() })
        );
        assert_eq!(finish(), None);
    }
}
