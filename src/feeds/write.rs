//! Serializes a [`Feed`] as RSS 2.0 (the `rss` crate), Atom 1.0
//! (`atom_syndication`) or JSON Feed 1.1 (serde).
//!
//! The featured image goes out as an RSS `<enclosure>`, an Atom
//! `<link rel="enclosure">`, a JSON Feed `image` plus attachment, and in both
//! XML formats as a Media RSS `<media:content>` carrying `<media:credit>` and
//! `<media:description>` (the caption). Bylines are `<dc:creator>` in RSS
//! (whose `<author>` must be an email, which we never publish).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::service::{Entry, Feed, FeedFormat};

/// The Media RSS namespace (`media:`).
pub const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// The feed's bytes in `format`.
pub fn render(feed: &Feed, format: FeedFormat) -> Result<Vec<u8>, anyhow::Error> {
    match format {
        FeedFormat::Rss => rss(feed),
        FeedFormat::Atom => atom(feed),
        FeedFormat::Json => Ok(serde_json::to_vec_pretty(&json(feed))?),
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn ext(name: &str, value: Option<String>, attrs: &[(&str, String)]) -> rss::extension::Extension {
    rss::extension::Extension {
        name: name.to_owned(),
        value,
        attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        children: BTreeMap::new(),
    }
}

/// `<media:content url type medium="image" fileSize>` with credit and caption.
fn media_content(e: &Entry) -> Option<rss::extension::Extension> {
    let img = e.image.as_ref()?;
    let mut attrs = vec![("url", img.url.clone()), ("type", img.mime_type.clone()), ("medium", "image".to_owned())];
    if img.length > 0 {
        attrs.push(("fileSize", img.length.to_string()));
    }
    let mut content = ext("media:content", None, &attrs);
    if let Some(c) = &img.credit {
        content.children.insert("credit".into(), vec![ext("media:credit", Some(c.clone()), &[])]);
    }
    if let Some(c) = img.caption.as_ref().or(img.alt_text.as_ref()) {
        content.children.insert(
            "description".into(),
            vec![ext("media:description", Some(c.clone()), &[("type", "plain".to_owned())])],
        );
    }
    Some(content)
}

fn media_map(e: &Entry) -> rss::extension::ExtensionMap {
    let mut map = BTreeMap::new();
    if let Some(c) = media_content(e) {
        map.insert("media".to_owned(), BTreeMap::from([("content".to_owned(), vec![c])]));
    }
    map
}

/// The same extension element for `atom_syndication` (a distinct but identical type).
fn to_atom(e: rss::extension::Extension) -> atom_syndication::extension::Extension {
    atom_syndication::extension::Extension {
        name: e.name,
        value: e.value,
        attrs: e.attrs,
        children: e.children.into_iter().map(|(k, v)| (k, v.into_iter().map(to_atom).collect())).collect(),
    }
}

fn rss(feed: &Feed) -> Result<Vec<u8>, anyhow::Error> {
    let items = feed
        .entries
        .iter()
        .map(|e| rss::Item {
            title: Some(e.title.clone()),
            link: Some(e.url.clone()),
            description: e.summary.clone(),
            content: e.content_html.clone(),
            guid: Some(rss::Guid { value: e.id.clone(), permalink: false }),
            pub_date: Some(utc(e.published).to_rfc2822()),
            categories: e
                .terms
                .iter()
                .map(|(_, name, url)| rss::Category { name: name.clone(), domain: Some(url.clone()) })
                .collect(),
            enclosure: e.image.as_ref().map(|i| rss::Enclosure {
                url: i.url.clone(),
                length: i.length.to_string(),
                mime_type: i.mime_type.clone(),
            }),
            dublin_core_ext: Some(rss::extension::dublincore::DublinCoreExtension {
                creators: e.authors.iter().map(|(n, _)| n.clone()).collect(),
                // Dublin Core `modified` has no RSS element; `dc:date` is the update time.
                dates: vec![utc(e.updated).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)],
                ..Default::default()
            }),
            extensions: media_map(e),
            ..Default::default()
        })
        .collect();
    let channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.home_url.clone(),
        description: feed.description.clone(),
        language: Some(feed.language.clone()),
        last_build_date: feed.updated.map(|t| utc(t).to_rfc2822()),
        generator: Some("broadsheet".into()),
        atom_ext: Some(rss::extension::atom::AtomExtension {
            links: vec![atom_syndication::Link {
                href: feed.self_url.clone(),
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Default::default()
            }],
        }),
        namespaces: BTreeMap::from([("media".to_owned(), MEDIA_NS.to_owned())]),
        items,
        ..Default::default()
    };
    Ok(channel.write_to(Vec::new())?)
}

fn atom(feed: &Feed) -> Result<Vec<u8>, anyhow::Error> {
    use atom_syndication::{Category, Content, Entry as AEntry, Feed as AFeed, Link, Person, Text};
    let entries = feed
        .entries
        .iter()
        .map(|e| {
            let mut links = vec![Link {
                href: e.url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Default::default()
            }];
            if let Some(i) = &e.image {
                links.push(Link {
                    href: i.url.clone(),
                    rel: "enclosure".into(),
                    mime_type: Some(i.mime_type.clone()),
                    length: (i.length > 0).then(|| i.length.to_string()),
                    title: i.credit.clone(),
                    ..Default::default()
                });
            }
            AEntry {
                title: Text::plain(e.title.clone()),
                id: e.id.clone(),
                updated: utc(e.updated).fixed_offset(),
                published: Some(utc(e.published).fixed_offset()),
                authors: e
                    .authors
                    .iter()
                    .map(|(n, u)| Person { name: n.clone(), uri: Some(u.clone()), ..Default::default() })
                    .collect(),
                categories: e
                    .terms
                    .iter()
                    .map(|(slug, name, url)| Category {
                        term: slug.clone(),
                        label: Some(name.clone()),
                        scheme: Some(url.clone()),
                    })
                    .collect(),
                links,
                summary: e.summary.clone().map(Text::plain),
                content: e.content_html.clone().map(|h| Content {
                    value: Some(h),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                extensions: media_map(e)
                    .into_iter()
                    .map(|(p, m)| (p, m.into_iter().map(|(k, v)| (k, v.into_iter().map(to_atom).collect())).collect()))
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let feed = AFeed {
        title: Text::plain(feed.title.clone()),
        id: feed.id.clone(),
        // An empty feed still needs `updated`; the epoch says "nothing yet".
        updated: utc(feed.updated.unwrap_or_default()).fixed_offset(),
        subtitle: Some(Text::plain(feed.description.clone())),
        links: vec![
            Link {
                href: feed.home_url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Default::default()
            },
            Link {
                href: feed.self_url.clone(),
                rel: "self".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Default::default()
            },
        ],
        generator: Some(atom_syndication::Generator { value: "broadsheet".into(), ..Default::default() }),
        lang: Some(feed.language.clone()),
        namespaces: BTreeMap::from([("media".to_owned(), MEDIA_NS.to_owned())]),
        entries,
        ..Default::default()
    };
    Ok(feed.write_to(Vec::new())?)
}

/// A JSON Feed 1.1 document (<https://jsonfeed.org/version/1.1>).
#[derive(Debug, Serialize)]
pub struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    description: String,
    language: String,
    items: Vec<JsonItem>,
}

#[derive(Debug, Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    date_published: String,
    date_modified: String,
    authors: Vec<JsonAuthor>,
    tags: Vec<String>,
    attachments: Vec<JsonAttachment>,
    /// Extension (JSON Feed §"Extensions": keys starting with `_`).
    #[serde(skip_serializing_if = "Option::is_none")]
    _broadsheet: Option<JsonExtension>,
}

#[derive(Debug, Serialize)]
struct JsonAuthor {
    name: String,
    url: String,
}

#[derive(Debug, Serialize)]
struct JsonAttachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<i64>,
}

#[derive(Debug, Serialize)]
struct JsonExtension {
    #[serde(skip_serializing_if = "Option::is_none")]
    image_credit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_caption: Option<String>,
}

fn json(feed: &Feed) -> JsonFeed {
    let ts = |t: NaiveDateTime| utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title.clone(),
        home_page_url: feed.home_url.clone(),
        feed_url: feed.self_url.clone(),
        description: feed.description.clone(),
        language: feed.language.clone(),
        items: feed
            .entries
            .iter()
            .map(|e| JsonItem {
                id: e.id.clone(),
                url: e.url.clone(),
                title: e.title.clone(),
                // JSON Feed needs content_html or content_text: the excerpt
                // stands in (as HTML-escaped text) when bodies are left out.
                content_html: e
                    .content_html
                    .clone()
                    .or_else(|| Some(format!("<p>{}</p>", escape_html(e.summary.as_deref().unwrap_or(&e.title))))),
                summary: e.summary.clone(),
                image: e.image.as_ref().map(|i| i.url.clone()),
                date_published: ts(e.published),
                date_modified: ts(e.updated),
                authors: e.authors.iter().map(|(n, u)| JsonAuthor { name: n.clone(), url: u.clone() }).collect(),
                tags: e.terms.iter().map(|(_, n, _)| n.clone()).collect(),
                attachments: e
                    .image
                    .iter()
                    .map(|i| JsonAttachment {
                        url: i.url.clone(),
                        mime_type: i.mime_type.clone(),
                        title: i.caption.clone(),
                        size_in_bytes: (i.length > 0).then_some(i.length),
                    })
                    .collect(),
                _broadsheet: e
                    .image
                    .as_ref()
                    .filter(|i| i.credit.is_some() || i.caption.is_some())
                    .map(|i| JsonExtension { image_credit: i.credit.clone(), image_caption: i.caption.clone() }),
            })
            .collect(),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
