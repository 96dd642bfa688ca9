//! Building messages: templates (minijinja, shipped in the binary, HTML
//! auto-escaped), `multipart/alternative` with plain text and HTML, a fixed
//! `Message-ID`, and list headers for mail that belongs to a list.

use std::sync::OnceLock;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::MailError;

/// A kind of mail. Stored as TEXT (`mails.template`, with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// A password-reset link. Params: `email`, `link`, `valid_for`.
    PasswordReset,
    /// An invitation to set a password. Params: `email`, `role`, `link`, `valid_for`.
    Invitation,
    /// Double opt-in for a newsletter subscription. Params: `site`, `email`,
    /// `topics` (text), `link`, `valid_for`.
    SubscriptionConfirm,
    /// A new-article mailing. Params: `site`, `title`, `excerpt`, `link`,
    /// `byline`, `image_url`, `image_alt`, `image_caption`, `image_credit`
    /// (null or empty when absent), `unsubscribe_link`, `preferences_link`.
    /// The subject is the article's title.
    NewArticle,
    /// Magic link verifying a commenter's address. Params: `site`, `name`, `link`, `valid_for`.
    CommentVerify,
    /// Replies to a reader's comment (one, or a digest). Params: `site`,
    /// `name`, `article_title`, `link`, `count`, `replies` (`[{author, text}]`),
    /// `thread_unsubscribe`, `all_unsubscribe`.
    CommentReply,
    /// A webhook endpoint was disabled after repeated failures. Params:
    /// `url`, `failures`, `last_error`, `manage_url`.
    WebhookDisabled,
}

impl Template {
    /// The stored form, also the template file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::Invitation => "invitation",
            Self::SubscriptionConfirm => "subscription_confirm",
            Self::NewArticle => "new_article",
            Self::CommentVerify => "comment_verify",
            Self::CommentReply => "comment_reply",
            Self::WebhookDisabled => "webhook_disabled",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PasswordReset,
            Self::Invitation,
            Self::SubscriptionConfirm,
            Self::NewArticle,
            Self::CommentVerify,
            Self::CommentReply,
            Self::WebhookDisabled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    fn subject(self) -> &'static str {
        match self {
            Self::PasswordReset => "Reset your password",
            Self::Invitation => "You are invited",
            Self::SubscriptionConfirm => "Confirm your subscription",
            Self::NewArticle => "New article",
            Self::CommentVerify => "Confirm your address for comments",
            Self::CommentReply => "New replies to your comment",
            Self::WebhookDisabled => "A webhook endpoint was disabled",
        }
    }
}

fn env() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // Auto-escaping follows the file name: `.html` escaped, `.txt` not.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let templates = [
            ("password_reset.txt", include_str!("templates/password_reset.txt")),
            ("password_reset.html", include_str!("templates/password_reset.html")),
            ("invitation.txt", include_str!("templates/invitation.txt")),
            ("invitation.html", include_str!("templates/invitation.html")),
            ("subscription_confirm.txt", include_str!("templates/subscription_confirm.txt")),
            ("subscription_confirm.html", include_str!("templates/subscription_confirm.html")),
            ("new_article.txt", include_str!("templates/new_article.txt")),
            ("new_article.html", include_str!("templates/new_article.html")),
            ("comment_verify.txt", include_str!("templates/comment_verify.txt")),
            ("comment_verify.html", include_str!("templates/comment_verify.html")),
            ("comment_reply.txt", include_str!("templates/comment_reply.txt")),
            ("comment_reply.html", include_str!("templates/comment_reply.html")),
            ("webhook_disabled.txt", include_str!("templates/webhook_disabled.txt")),
            ("webhook_disabled.html", include_str!("templates/webhook_disabled.html")),
        ];
        for (name, source) in templates {
            env.add_template(name, source).expect("shipped templates parse");
        }
        env
    })
}

/// A mailing list a message belongs to: adds `List-Id`, `List-Unsubscribe`
/// (RFC 2369, the URL in angle brackets) and `List-Unsubscribe-Post:
/// List-Unsubscribe=One-Click` (RFC 8058), so mail clients offer a one-click
/// unsubscribe that POSTs to `unsubscribe_url`.
#[derive(Clone, Debug)]
pub struct ListIdentity {
    /// `List-Id` (RFC 2919), e.g. `Morning briefing <briefing.news.example.com>`.
    pub list_id: String,
    /// An `https` URL that unsubscribes on POST (and must not on GET).
    pub unsubscribe_url: String,
}

macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        #[derive(Clone, Debug)]
        struct $ty(String);

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(ListId, "List-Id");
text_header!(ListUnsubscribe, "List-Unsubscribe");
text_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

/// A message ready for a [`super::Mailer`], with its parts kept for tests and logs.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    /// The envelope and header recipient.
    pub to: String,
    /// `Subject`.
    pub subject: String,
    /// `Message-ID`, with angle brackets.
    pub message_id: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The lettre message.
    pub message: Message,
}

/// The domain of a `From` mailbox (`no-reply@news.example.com` → `news.example.com`).
pub fn domain_of(from: &str) -> String {
    from.parse::<Mailbox>().map(|m| m.email.domain().to_owned()).unwrap_or_else(|_| "localhost".into())
}

/// Renders `template` with `params` and builds the message.
pub fn compose(
    from: &str,
    to: &str,
    message_id: &str,
    template: Template,
    params: &serde_json::Value,
    list: Option<&ListIdentity>,
) -> Result<OutgoingMail, MailError> {
    compose_with_subject(from, to, message_id, template, template.subject(), params, list)
}

/// [`compose`] with a subject of the caller's (a mailing's article title).
pub fn compose_with_subject(
    from: &str,
    to: &str,
    message_id: &str,
    template: Template,
    subject: &str,
    params: &serde_json::Value,
    list: Option<&ListIdentity>,
) -> Result<OutgoingMail, MailError> {
    let render = |ext: &str| {
        env()
            .get_template(&format!("{}.{ext}", template.as_str()))
            .and_then(|t| t.render(params))
            .map_err(|e| MailError::Build(format!("template {}.{ext}: {e}", template.as_str())))
    };
    let (text, html) = (render("txt")?, render("html")?);
    let from: Mailbox = from.parse().map_err(|e| MailError::Build(format!("From: {e}")))?;
    let to_box: Mailbox = to.parse().map_err(|e| MailError::Build(format!("To: {e}")))?;
    let mut builder =
        Message::builder().from(from).to(to_box).subject(subject).message_id(Some(message_id.to_owned())).date_now();
    if let Some(list) = list {
        builder = builder
            .header(ListId(list.list_id.clone()))
            .header(ListUnsubscribe(format!("<{}>", list.unsubscribe_url)))
            .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
    }
    let message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone())),
        )
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(OutgoingMail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        message_id: message_id.to_owned(),
        text,
        html,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> serde_json::Value {
        serde_json::json!({"site": "Gazette", "email": "a@example.com", "valid_for": "1 hour",
                           "link": "https://news.example.com/reset-password?token=abc&x=<b>"})
    }

    #[test]
    fn messages_have_both_parts_a_fixed_message_id_and_escaped_html() {
        let m = compose(
            "News <no-reply@news.example.com>",
            "a@example.com",
            "<m1@news.example.com>",
            Template::PasswordReset,
            &params(),
            None,
        )
        .unwrap();
        let raw = String::from_utf8(m.message.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <m1@news.example.com>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
        assert!(!raw.contains("List-Unsubscribe"), "no list headers without a list");
        assert!(m.html.contains("token=abc&amp;x=&lt;b&gt;"), "HTML is escaped: {}", m.html);
        assert!(m.text.contains("token=abc&x=<b>"), "text is not: {}", m.text);
        assert_eq!(domain_of("News <no-reply@news.example.com>"), "news.example.com");
    }

    #[test]
    fn list_mail_carries_one_click_unsubscribe_headers() {
        let list = ListIdentity {
            list_id: "Morning briefing <briefing.news.example.com>".into(),
            unsubscribe_url: "https://news.example.com/unsubscribe/t0k3n".into(),
        };
        let m = compose(
            "no-reply@news.example.com",
            "a@example.com",
            "<m2@news.example.com>",
            Template::PasswordReset,
            &params(),
            Some(&list),
        )
        .unwrap();
        let raw = String::from_utf8(m.message.formatted()).unwrap();
        assert!(raw.contains("List-Unsubscribe: <https://news.example.com/unsubscribe/t0k3n>\r\n"), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{raw}");
        assert!(raw.contains("List-Id: Morning briefing <briefing.news.example.com>\r\n"), "{raw}");
    }

    #[test]
    fn a_missing_parameter_is_an_error_not_an_empty_link() {
        let err = compose(
            "no-reply@x.org",
            "a@example.com",
            "<m@x.org>",
            Template::Invitation,
            &serde_json::json!({"email": "a@example.com"}),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, MailError::Build(_)), "{err}");
    }
}
