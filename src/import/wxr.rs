//! A streaming reader for WordPress eXtended RSS (WXR 1.0–1.2) exports.
//!
//! Built on quick-xml's pull parser: the file is read through a buffer and
//! each `wp:author`, `wp:category`, `wp:tag`, `wp:term` and `item` is handed to the
//! caller as soon as its end tag is read, so memory stays flat however large
//! the export. Elements are matched by their conventional WXR prefixes
//! (`wp:`, `dc:`, `content:`, `excerpt:`), which every WordPress version writes.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader;

/// Channel-level facts, reported once the channel header has been read.
#[derive(Debug, Default, Clone)]
pub struct Channel {
    /// `wp:wxr_version`, e.g. `1.2`.
    pub wxr_version: Option<String>,
    /// `wp:base_blog_url`, used as the import source of every record.
    pub base_blog_url: Option<String>,
    /// `wp:base_site_url`.
    pub base_site_url: Option<String>,
    /// The channel's RSS `<link>` (the source of exports without base URLs).
    pub link: Option<String>,
}

/// A `wp:author` entry.
#[derive(Debug, Default, Clone)]
pub struct WxrAuthor {
    /// `wp:author_id` (absent in some exports).
    pub id: Option<String>,
    /// `wp:author_login`, referenced by items' `dc:creator`.
    pub login: String,
    /// `wp:author_email`.
    pub email: Option<String>,
    /// `wp:author_display_name`.
    pub display_name: Option<String>,
    /// `wp:author_first_name`.
    pub first_name: Option<String>,
    /// `wp:author_last_name`.
    pub last_name: Option<String>,
}

/// A `wp:category`, `wp:tag` or (WXR 1.2) `wp:term` entry. Every field may
/// be absent, as in WordPress's own parser (`WXR_Parser_SimpleXML` reads each
/// as an empty string).
#[derive(Debug, Default, Clone)]
pub struct WxrTerm {
    /// `wp:term_taxonomy` of a `wp:term` (`category`, `post_tag`, `nav_menu`,
    /// a custom taxonomy); empty for `wp:category` and `wp:tag`.
    pub taxonomy: String,
    /// `wp:term_id`.
    pub term_id: Option<String>,
    /// `wp:category_nicename` / `wp:tag_slug` / `wp:term_slug`.
    pub slug: String,
    /// `wp:cat_name` / `wp:tag_name` / `wp:term_name`.
    pub name: String,
    /// `wp:category_parent` / `wp:term_parent` (the parent's slug).
    pub parent: Option<String>,
    /// `wp:category_description` / `wp:tag_description` / `wp:term_description`.
    pub description: Option<String>,
}

/// A `<category domain=… nicename=…>` assignment inside an item.
#[derive(Debug, Default, Clone)]
pub struct TermAssignment {
    /// `category`, `post_tag`, `post_format`, `nav_menu`, …
    pub domain: String,
    /// The term's slug.
    pub nicename: String,
    /// The term's display name (element text).
    pub name: String,
}

/// A `wp:comment` inside an item.
#[derive(Debug, Default, Clone)]
pub struct WxrComment {
    /// Child elements by name without prefix (`comment_id`, `comment_author`, …).
    pub fields: HashMap<String, String>,
}

/// An `item`: a post, page, attachment or menu item.
#[derive(Debug, Default, Clone)]
pub struct WxrItem {
    /// Direct child elements by qualified name (`title`, `wp:post_id`, `content:encoded`, …).
    pub fields: HashMap<String, String>,
    /// Category and tag assignments.
    pub terms: Vec<TermAssignment>,
    /// `wp:postmeta` key/value pairs, in order.
    pub meta: Vec<(String, String)>,
    /// Comments, in file order.
    pub comments: Vec<WxrComment>,
}

impl WxrItem {
    /// The trimmed text of child `name`, or `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// The first `wp:postmeta` value for `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

impl WxrComment {
    /// The trimmed text of `wp:{name}`, or `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// One unit of the export, in file order.
#[derive(Debug)]
pub enum Record {
    /// The channel facts, once, before any other record.
    Channel(Channel),
    /// A `wp:author`.
    Author(WxrAuthor),
    /// A `wp:category`.
    Category(WxrTerm),
    /// A `wp:tag`.
    Tag(WxrTerm),
    /// A `wp:term` (WXR 1.2): any taxonomy, named by [`WxrTerm::taxonomy`].
    Term(WxrTerm),
    /// An `item`.
    Item(Box<WxrItem>),
}

/// Why a file could not be read as WXR. Reading stops at the first of these.
#[derive(Debug, thiserror::Error)]
pub enum WxrError {
    /// Not XML, or malformed XML, at a byte offset.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset in the file.
        position: u64,
        /// The parser's message.
        message: String,
    },
    /// Well-formed XML, but not a WordPress export.
    #[error("not a WordPress export (WXR): {0}")]
    NotWxr(String),
    /// The file ended inside an element, tag, comment or CDATA section.
    #[error("the file is truncated: {0}")]
    Truncated(String),
}

/// Reads `input` and calls `on_record` with [`Record::Channel`] once, then
/// with each author, term and item in file order. Stops at the first error
/// from the callback or the parser.
pub fn read<R: BufRead, E: From<WxrError>>(
    input: R,
    mut on_record: impl FnMut(Record) -> Result<(), E>,
) -> Result<Channel, E> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut channel = Channel::default();
    let mut channel_announced = false;
    let mut saw_rss = false;

    let mut author: Option<WxrAuthor> = None;
    let mut term: Option<WxrTerm> = None;
    let mut item: Option<WxrItem> = None;
    let mut comment: Option<WxrComment> = None;
    let mut meta_key = String::new();
    let mut meta_value = String::new();
    let mut assignment: Option<TermAssignment> = None;

    let xml_err = |reader: &Reader<R>, e: &dyn std::fmt::Display| WxrError::Xml {
        position: reader.buffer_position(),
        message: e.to_string(),
    };

    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| match e {
            // quick-xml's syntax errors are all "X not closed before end of input".
            quick_xml::Error::Syntax(s) => WxrError::Truncated(format!("{s}")),
            e => xml_err(&reader, &e),
        })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if stack.is_empty() {
                    if name != "rss" {
                        return Err(WxrError::NotWxr(format!("the root element is <{name}>, not <rss>")).into());
                    }
                    saw_rss = true;
                }
                let depth = stack.len();
                let in_channel = depth == 2 && stack[1] == "channel";
                if in_channel {
                    if !channel_announced
                        && matches!(name.as_str(), "wp:author" | "wp:category" | "wp:tag" | "wp:term" | "item")
                    {
                        if channel.wxr_version.is_none() {
                            return Err(WxrError::NotWxr("no <wp:wxr_version> before the first entry".into()).into());
                        }
                        on_record(Record::Channel(channel.clone()))?;
                        channel_announced = true;
                    }
                    match name.as_str() {
                        "wp:author" => author = Some(WxrAuthor::default()),
                        "wp:category" | "wp:tag" | "wp:term" => term = Some(WxrTerm::default()),
                        "item" => item = Some(WxrItem::default()),
                        _ => {}
                    }
                } else if item.is_some() && depth == 3 {
                    match name.as_str() {
                        "wp:comment" => comment = Some(WxrComment::default()),
                        "wp:postmeta" => {
                            meta_key.clear();
                            meta_value.clear();
                        }
                        "category" => {
                            let mut a = TermAssignment::default();
                            for attr in e.attributes().flatten() {
                                let v = attr.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                                match attr.key.as_ref() {
                                    b"domain" => a.domain = v,
                                    b"nicename" => a.nicename = v,
                                    _ => {}
                                }
                            }
                            assignment = Some(a);
                        }
                        _ => {}
                    }
                }
                stack.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                // <wp:post_name/> etc.: an empty value; treat as Start+End with no text.
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if stack.is_empty() {
                    return Err(WxrError::NotWxr(format!("the root element is <{name}/>, not <rss>")).into());
                }
                text.clear();
                stack.push(name);
                close(
                    &stack,
                    &mut text,
                    &mut channel,
                    &mut author,
                    &mut term,
                    &mut item,
                    &mut comment,
                    &mut meta_key,
                    &mut meta_value,
                    &mut assignment,
                    &mut on_record,
                )?;
                stack.pop();
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| xml_err(&reader, &e))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| xml_err(&reader, &e))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => {
                        let name = r.decode().map_err(|e| xml_err(&reader, &e))?;
                        let entity = format!("&{name};");
                        match quick_xml::escape::unescape(&entity) {
                            Ok(v) => text.push_str(&v),
                            // An unknown entity (HTML's &nbsp; in a text node) is kept verbatim.
                            Err(_) => text.push_str(&entity),
                        }
                    }
                }
            }
            Event::End(_) => {
                close(
                    &stack,
                    &mut text,
                    &mut channel,
                    &mut author,
                    &mut term,
                    &mut item,
                    &mut comment,
                    &mut meta_key,
                    &mut meta_value,
                    &mut assignment,
                    &mut on_record,
                )?;
                stack.pop();
                text.clear();
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(WxrError::Truncated(format!("it ends inside <{open}>")).into());
                }
                if !saw_rss {
                    return Err(WxrError::NotWxr("the file holds no XML elements".into()).into());
                }
                if channel.wxr_version.is_none() {
                    return Err(WxrError::NotWxr("no <wp:wxr_version> in <channel>".into()).into());
                }
                if !channel_announced {
                    on_record(Record::Channel(channel.clone()))?;
                }
                return Ok(channel);
            }
            _ => {}
        }
        buf.clear();
    }
}

/// Handles the end of the element at the top of `stack`, whose text is `text`.
#[allow(clippy::too_many_arguments)]
fn close<E: From<WxrError>>(
    stack: &[String],
    text: &mut String,
    channel: &mut Channel,
    author: &mut Option<WxrAuthor>,
    term: &mut Option<WxrTerm>,
    item: &mut Option<WxrItem>,
    comment: &mut Option<WxrComment>,
    meta_key: &mut String,
    meta_value: &mut String,
    assignment: &mut Option<TermAssignment>,
    on_record: &mut impl FnMut(Record) -> Result<(), E>,
) -> Result<(), E> {
    let depth = stack.len();
    let name = stack[depth - 1].as_str();
    let value = || text.trim().to_owned();
    let opt = || Some(text.trim().to_owned()).filter(|s| !s.is_empty());
    // Element directly inside <channel> (depth 3) or deeper.
    if depth == 3 {
        match name {
            "wp:wxr_version" => channel.wxr_version = opt(),
            "wp:base_blog_url" => channel.base_blog_url = opt(),
            "wp:base_site_url" => channel.base_site_url = opt(),
            "link" => channel.link = opt(),
            "wp:author" => {
                if let Some(a) = author.take() {
                    on_record(Record::Author(a))?;
                }
            }
            "wp:category" => {
                if let Some(t) = term.take() {
                    on_record(Record::Category(t))?;
                }
            }
            "wp:tag" => {
                if let Some(t) = term.take() {
                    on_record(Record::Tag(t))?;
                }
            }
            "wp:term" => {
                if let Some(t) = term.take() {
                    on_record(Record::Term(t))?;
                }
            }
            "item" => {
                if let Some(i) = item.take() {
                    on_record(Record::Item(Box::new(i)))?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if depth == 4 {
        if let Some(a) = author.as_mut() {
            match name {
                "wp:author_id" => a.id = opt(),
                "wp:author_login" => a.login = value(),
                "wp:author_email" => a.email = opt(),
                "wp:author_display_name" => a.display_name = opt(),
                "wp:author_first_name" => a.first_name = opt(),
                "wp:author_last_name" => a.last_name = opt(),
                _ => {}
            }
        } else if let Some(t) = term.as_mut() {
            match name {
                "wp:term_id" => t.term_id = opt(),
                "wp:term_taxonomy" => t.taxonomy = value(),
                "wp:category_nicename" | "wp:tag_slug" | "wp:term_slug" => t.slug = value(),
                "wp:cat_name" | "wp:tag_name" | "wp:term_name" => t.name = value(),
                "wp:category_parent" | "wp:term_parent" => t.parent = opt(),
                "wp:category_description" | "wp:tag_description" | "wp:term_description" => t.description = opt(),
                _ => {}
            }
        } else if let Some(i) = item.as_mut() {
            match name {
                "wp:comment" => {
                    if let Some(c) = comment.take() {
                        i.comments.push(c);
                    }
                }
                "wp:postmeta" => i.meta.push((std::mem::take(meta_key), std::mem::take(meta_value))),
                "category" => {
                    if let Some(mut a) = assignment.take() {
                        a.name = value();
                        i.terms.push(a);
                    }
                }
                // Keep the raw text (not trimmed) so bodies keep their line breaks.
                _ => {
                    i.fields.insert(name.to_owned(), std::mem::take(text));
                }
            }
        }
        return Ok(());
    }
    if depth == 5 && item.is_some() {
        if let Some(c) = comment.as_mut() {
            if let Some(field) = name.strip_prefix("wp:") {
                c.fields.insert(field.to_owned(), std::mem::take(text));
            }
        } else if name == "wp:meta_key" {
            *meta_key = value();
        } else if name == "wp:meta_value" {
            *meta_value = std::mem::take(text);
        }
    }
    Ok(())
}
