//! Mailing domain types: states stored as TEXT with a CHECK, and rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::mailings;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses the stored form.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

text_enum! {
    /// Where a mailing is. Stored as TEXT (`mailings.state`, with a CHECK).
    MailingState {
        /// Waiting for its article's publication time.
        Scheduled = "scheduled",
        /// Waiting for an editor to release or cancel it (`held_reason` says why).
        Held = "held",
        /// Delivery records exist; messages are going out.
        Sending = "sending",
        /// Every delivery record is settled (sent, failed or skipped).
        Sent = "sent",
        /// Cancelled by an editor before it started; never sends.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Why a mailing is held. Stored as TEXT (`mailings.held_reason`).
    HeldReason {
        /// The article's newsletter mode is `hold`: an editor reviews it first.
        Review = "review",
        /// It would have started more than `MAILING_MAX_LATENESS_MINUTES`
        /// after its time (a restore, a long outage): not sent late unasked.
        Late = "late",
    }
}

text_enum! {
    /// One recipient's delivery. Stored as TEXT (`mailing_deliveries.state`).
    DeliveryState {
        /// Not sent yet (maybe waiting for a retry at `next_attempt_at`).
        Queued = "queued",
        /// Accepted by the mail transport.
        Sent = "sent",
        /// Gave up after `MAILING_MAX_ATTEMPTS` tries, or the message could not be built.
        Failed = "failed",
        /// Not sent: the subscriber unsubscribed, bounced, complained or was
        /// erased after the mailing started.
        Skipped = "skipped",
    }
}

text_enum! {
    /// What publishing an article does about mail. Stored as TEXT
    /// (`article_newsletters.mode`); an article without a row is `send`.
    NewsletterMode {
        /// Mail matching subscribers when it is published (the default).
        Send = "send",
        /// Create the mailing held, for an editor to release or cancel.
        Hold = "hold",
        /// No mailing for this article.
        Off = "off",
    }
}

/// One `mailings` row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = mailings)]
pub struct MailingRow {
    pub id: i64,
    /// `None` once the article was deleted (the mailing's history stays).
    pub article_id: Option<i64>,
    pub state: String,
    pub held_reason: Option<String>,
    pub scheduled_at: NaiveDateTime,
    pub subject: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The article's title when the mailing was made or started (kept after the article is deleted).
    pub article_title: Option<String>,
}

impl MailingRow {
    /// The parsed state (`held` for anything unknown, which the CHECK rules out).
    pub fn state(&self) -> MailingState {
        MailingState::parse(&self.state).unwrap_or(MailingState::Held)
    }
}

/// A delivery due for sending, with what the send needs from its subscriber.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: i64,
    pub subscriber_id: Option<i64>,
    pub attempts: i32,
    pub message_id: String,
    /// `(email, secret, status)` while the subscriber exists.
    pub subscriber: Option<(String, String, String)>,
}
