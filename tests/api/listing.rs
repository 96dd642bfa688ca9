//! Article lists whose cost follows the page: query plans, keyset (cursor)
//! pagination and the offset limit.

use broadsheet::articles::repo::{self, ArticleFilter, Cursor, CursorKey, PageAt, Sort, Visibility};
use broadsheet::pagination::PageParams;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, patch_article, Backend, TestApp, TestDb};

backend_tests!(
    every_list_sort_and_main_filter_reads_an_index_in_order,
    a_cursor_walk_visits_every_article_once_in_each_sort,
    a_cursor_walk_is_stable_under_inserts,
    bad_cursors_are_400_naming_after,
    pages_deeper_than_the_offset_limit_are_400_and_next_switches_to_the_cursor,
    list_totals_come_from_tallies_that_match_a_recount_after_every_kind_of_write,
    a_tag_list_holds_what_the_general_filter_finds_after_every_kind_of_write,
    a_category_list_holds_what_the_general_filter_finds_after_every_kind_of_write,
);

/// (label, filter, sort, where the page starts).
fn plan_cases(db: &TestDb) -> Vec<(String, ArticleFilter, Sort, PageAt)> {
    let c = &mut *db.conn();
    let markup = repo::category_and_descendants(c, "markup").expect("category tree");
    assert_eq!(markup.len(), 1, "fixture has the `markup` category, with no subcategories");
    let parent = repo::category_and_descendants(c, "parent-category").expect("category tree");
    assert!(parent.len() > 1, "fixture has `parent-category` with subcategories: {parent:?}");
    let first = PageAt::Offset(PageParams { page: 1, per_page: 20 });
    let deep = PageAt::Offset(PageParams { page: 3, per_page: 20 });
    let t = chrono::NaiveDate::from_ymd_opt(2012, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let cursor = |sort: Sort, key: CursorKey| PageAt::After(Some(Cursor { sort, key, id: 1000 }), 20);
    let none = ArticleFilter::default;
    let mut cases = vec![
        ("default list".to_owned(), none(), Sort::PublishedDesc, first.clone()),
        ("default list, page 3".to_owned(), none(), Sort::PublishedDesc, deep),
        ("sort=published_at".to_owned(), none(), Sort::PublishedAsc, first.clone()),
        ("sort=-updated_at".to_owned(), none(), Sort::UpdatedDesc, first.clone()),
        ("sort=title".to_owned(), none(), Sort::Title, first.clone()),
        (
            "category=markup".to_owned(),
            ArticleFilter { categories: Some(markup.clone()), ..none() },
            Sort::PublishedDesc,
            first.clone(),
        ),
        (
            "tag=template".to_owned(),
            ArticleFilter { tag: Some(vec!["template".into()]), ..none() },
            Sort::PublishedDesc,
            first.clone(),
        ),
        (
            "author=themereviewteam".to_owned(),
            ArticleFilter { author: Some("themereviewteam".into()), ..none() },
            Sort::PublishedDesc,
            first.clone(),
        ),
        ("series=1".to_owned(), ArticleFilter { series: Some(1), ..none() }, Sort::PublishedAsc, first.clone()),
        (
            "published_after".to_owned(),
            ArticleFilter { published_after: Some(t), ..none() },
            Sort::PublishedDesc,
            first.clone(),
        ),
        (
            "after=<cursor>".to_owned(),
            none(),
            Sort::PublishedDesc,
            cursor(Sort::PublishedDesc, CursorKey::Time(Some(t))),
        ),
        (
            "sort=published_at&after=<cursor>".to_owned(),
            none(),
            Sort::PublishedAsc,
            cursor(Sort::PublishedAsc, CursorKey::Time(Some(t))),
        ),
        (
            "sort=-updated_at&after=<cursor>".to_owned(),
            none(),
            Sort::UpdatedDesc,
            cursor(Sort::UpdatedDesc, CursorKey::Time(Some(t))),
        ),
        ("sort=title&after=<cursor>".to_owned(), none(), Sort::Title, cursor(Sort::Title, CursorKey::Text("M".into()))),
        ("sticky_first=true".to_owned(), none(), Sort::StickyPublishedDesc, first.clone()),
        (
            "sticky_first=true&after=<cursor>".to_owned(),
            none(),
            Sort::StickyPublishedDesc,
            cursor(Sort::StickyPublishedDesc, CursorKey::Sticky(false, Some(t))),
        ),
    ];
    cases.push((
        "category=parent-category (and its subcategories)".to_owned(),
        ArticleFilter { categories: Some(parent), ..none() },
        Sort::PublishedDesc,
        first.clone(),
    ));
    cases.push((
        "category=markup&after=<cursor>".to_owned(),
        ArticleFilter { categories: Some(markup), ..none() },
        Sort::PublishedDesc,
        cursor(Sort::PublishedDesc, CursorKey::Time(Some(t))),
    ));
    cases.push((
        "tag=template&after=<cursor>".to_owned(),
        ArticleFilter { tag: Some(vec!["template".into()]), ..none() },
        Sort::PublishedDesc,
        cursor(Sort::PublishedDesc, CursorKey::Time(Some(t))),
    ));
    cases.push((
        "after=start".to_owned(),
        ArticleFilter { tag: Some(vec!["template".into()]), ..none() },
        Sort::PublishedDesc,
        PageAt::After(None, 20),
    ));
    cases
}

async fn every_list_sort_and_main_filter_reads_an_index_in_order(backend: Backend) {
    // Arrange
    let Some(db) = TestDb::create(backend) else { return };
    db.import_fixture();
    let now = broadsheet::db::now();
    let mut conn = db.conn();
    if backend == Backend::Postgres {
        // On a table this small PostgreSQL would rightly pick a sequential
        // scan and a sort. With both priced out, a plan that still sorts
        // or scans has no index matching the order.
        diesel::sql_query("SET enable_sort = off").execute(&mut *conn).unwrap();
        diesel::sql_query("SET enable_seqscan = off").execute(&mut *conn).unwrap();
    }

    for (label, filter, sort, at) in plan_cases(&db) {
        let one_category = filter.categories.as_ref().is_some_and(|c| c.len() == 1);
        // Act
        let lines = repo::explain_list(&mut conn, Visibility::Public, &filter, sort, &at, now)
            .unwrap_or_else(|e| panic!("{label}: EXPLAIN failed: {e}"));

        // Assert
        assert!(!lines.is_empty(), "{label}: no plan");
        let plan = lines.join("\n");
        if repo::Tally::of(Visibility::Public, &filter).is_some() {
            assert!(plan.contains("article_tallies"), "{label}: the total is not read from the tallies:\n{plan}");
        }
        match backend {
            Backend::Sqlite => {
                assert!(!plan.contains("USE TEMP B-TREE"), "{label}: sorts in a temporary B-tree:\n{plan}");
                assert!(
                    !lines.iter().any(|l| l.trim() == "SCAN articles" || l.contains("SCAN articles USING INTEGER")),
                    "{label}: scans the articles table:\n{plan}"
                );
                if filter.tag.is_some() {
                    // One tag's public list pages through its own slice of
                    // the link index, looking each article up by id.
                    assert!(
                        plan.contains("COVERING INDEX article_tags_list_idx (tag_id=?"),
                        "{label}: not paged through the tag's links:\n{plan}"
                    );
                } else if one_category {
                    // So does one category with no subcategories.
                    assert!(
                        plan.contains("COVERING INDEX article_categories_list_idx (category_id=?"),
                        "{label}: not paged through the category's links:\n{plan}"
                    );
                } else {
                    assert!(
                        plan.contains("COVERING INDEX articles_"),
                        "{label}: not read from a covering index:\n{plan}"
                    );
                }
            }
            Backend::Postgres => {
                let node = |l: &String| l.trim_start().trim_start_matches("->").trim_start().to_owned();
                assert!(
                    !lines.iter().any(|l| node(l).starts_with("Sort") || node(l).starts_with("Incremental Sort")),
                    "{label}: sorts:\n{plan}"
                );
                assert!(!plan.contains("Seq Scan on articles"), "{label}: scans the articles table:\n{plan}");
                // The page is read off the links' index newest first (the
                // general filter may use the same index, forwards, to
                // look the links up, and so may the due count).
                if filter.tag.is_some() {
                    assert!(
                        plan.contains("Index Only Scan Backward using article_tags_list_idx on article_tags"),
                        "{label}: not paged through the tag's links:\n{plan}"
                    );
                }
                if one_category {
                    assert!(
                        plan.contains(
                            "Index Only Scan Backward using article_categories_list_idx on article_categories"
                        ),
                        "{label}: not paged through the category's links:\n{plan}"
                    );
                }
            }
        }
    }
}

fn ids(body: &Value) -> Vec<i64> {
    body["data"].as_array().expect("data array").iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

/// The path of the `rel="next"` link, without the base URL.
fn next_link(link: Option<&str>) -> Option<String> {
    let link = link?;
    link.split(", ").find(|l| l.ends_with("rel=\"next\"")).map(|l| {
        let url = l.trim_start_matches('<').split('>').next().unwrap();
        url.trim_start_matches("http://broadsheet.test").to_owned()
    })
}

/// Follows `next` links from `start`; returns the ids in order and the pages read.
async fn walk(app: &TestApp, start: &str) -> (Vec<i64>, usize) {
    let mut seen = Vec::new();
    let mut path = Some(start.to_owned());
    let mut pages = 0;
    while let Some(p) = path {
        let res = app.get(&p).await;
        assert_eq!(res.status.as_u16(), 200, "{p}: {}", String::from_utf8_lossy(&res.body));
        let body = res.json();
        assert_eq!(body["meta"]["page"], 0, "{p}: a cursor page has page 0");
        seen.extend(ids(&body));
        path = next_link(res.header("link"));
        pages += 1;
        assert!(pages < 100, "the walk does not end");
    }
    (seen, pages)
}

async fn a_cursor_walk_visits_every_article_once_in_each_sort(backend: Backend) {
    let Some(app) = TestApp::with_fixture(backend).await else { return };

    for sort in ["-published_at", "published_at", "-updated_at", "title"] {
        // Arrange
        let all = ids(&app.get_ok(&format!("/api/v1/articles?per_page=100&sort={sort}")).await);
        assert_eq!(all.len(), 56);

        // Act
        let (walked, pages) = walk(&app, &format!("/api/v1/articles?per_page=7&sort={sort}&after=start")).await;

        // Assert
        assert_eq!(walked, all, "sort={sort}: the cursor walk differs from the full list");
        assert_eq!(pages, 8, "sort={sort}: 56 articles in pages of 7");
    }
    // A filtered walk keeps its filter in the next links.
    let all = ids(&app.get_ok("/api/v1/articles?per_page=100&tag=template").await);
    let (walked, _) = walk(&app, "/api/v1/articles?per_page=2&tag=template&after=start").await;
    assert_eq!(walked, all, "tag=template walk");
}

async fn a_cursor_walk_is_stable_under_inserts(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let before = ids(&app.get_ok("/api/v1/articles?per_page=100").await);
    let first = app.get("/api/v1/articles?per_page=10&after=start").await;
    let mut walked = ids(&first.json());
    let mut next = next_link(first.header("link"));

    // Act: new articles land at the top (published now) while the walk goes on.
    for i in 0..3 {
        app.create_article(&editor, json!({"title": format!("Breaking {i}"), "body": "News", "status": "published"}))
            .await;
        let Some(p) = next else { break };
        let res = app.get(&p).await;
        assert_eq!(res.status.as_u16(), 200);
        walked.extend(ids(&res.json()));
        next = next_link(res.header("link"));
    }
    while let Some(p) = next {
        let res = app.get(&p).await;
        walked.extend(ids(&res.json()));
        next = next_link(res.header("link"));
    }

    // Assert
    assert_eq!(walked, before, "the walk skipped or repeated an article while others were published");
    let now = ids(&app.get_ok("/api/v1/articles?per_page=100").await);
    assert_eq!(now.len(), 59, "the new articles are listed");
}

async fn bad_cursors_are_400_naming_after(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let first = app.get("/api/v1/articles?per_page=5&after=start").await;
    let next = next_link(first.header("link")).expect("a next link");
    let cursor = next.split("after=").nth(1).unwrap().to_owned();

    for path in [
        "/api/v1/articles?after=garbage!".to_owned(),
        "/api/v1/articles?after=bm9wZQ".to_owned(),
        "/api/v1/articles?after=".to_owned(),
        format!("/api/v1/articles?after={cursor}&sort=title"),
        format!("/api/v1/articles?after={cursor}&page=2"),
        format!("/api/v1/articles?after={cursor}&q=template&sort=relevance"),
    ] {
        // Act
        let res = app.get(&path).await;

        // Assert
        let problem = res.assert_problem(400);
        assert_eq!(problem["errors"][0]["field"], "after", "{path}: {problem}");
    }
}

async fn pages_deeper_than_the_offset_limit_are_400_and_next_switches_to_the_cursor(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::spawn_with(backend, &[("LIST_MAX_OFFSET", "20")]).await else { return };
    app.db.import_fixture();

    // Act
    let second = app.get("/api/v1/articles?page=2&per_page=10").await;
    let third = app.get("/api/v1/articles?page=3&per_page=10").await;
    let deep = app.get("/api/v1/articles?page=4&per_page=10").await;

    // Assert
    assert_eq!(second.status.as_u16(), 200);
    assert_eq!(third.status.as_u16(), 200, "offset 20 is within the limit");
    let next = next_link(third.header("link")).expect("a next link");
    assert!(
        next.contains("after=") && !next.contains("?page=") && !next.contains("&page="),
        "past the limit next is a cursor: {next}"
    );
    let via_cursor = app.get_ok(&next).await;
    let all = ids(&app.get_ok("/api/v1/articles?per_page=100").await);
    assert_eq!(ids(&via_cursor), all[30..40].to_vec(), "the cursor continues where page 3 ended");
    let problem = deep.assert_problem(400);
    assert_eq!(problem["errors"][0]["field"], "page");
    assert!(problem["detail"].as_str().unwrap().contains("after"), "the 400 points at the cursor: {problem}");
}

/// Every non-zero `article_tallies` row next to the same figures counted
/// from the articles and their links, sorted.
/// `(kind, ref_id, status, n)`.
type TallyRow = (String, i64, String, i64);

fn tallies_and_recount(db: &TestDb) -> (Vec<TallyRow>, Vec<TallyRow>) {
    use broadsheet::db::schema::{article_authors, article_categories, article_tags, article_tallies as t, articles};
    use diesel::prelude::*;
    let c = &mut *db.conn();
    let mut stored: Vec<TallyRow> =
        t::table.filter(t::n.ne(0)).select((t::kind, t::ref_id, t::status, t::n)).load(c).unwrap();
    let mut counts: std::collections::BTreeMap<(String, i64, String), i64> = Default::default();
    let all: Vec<String> = articles::table.select(articles::status).load(c).unwrap();
    let categories: Vec<(i64, String)> = article_categories::table
        .inner_join(articles::table)
        .select((article_categories::category_id, articles::status))
        .load(c)
        .unwrap();
    let tags: Vec<(i64, String)> = article_tags::table
        .inner_join(articles::table)
        .select((article_tags::tag_id, articles::status))
        .load(c)
        .unwrap();
    let authors: Vec<(i64, String)> = article_authors::table
        .inner_join(articles::table)
        .select((article_authors::author_id, articles::status))
        .load(c)
        .unwrap();
    let links = all
        .into_iter()
        .map(|s| ("all", 0, s))
        .chain(categories.into_iter().map(|(r, s)| ("category", r, s)))
        .chain(tags.into_iter().map(|(r, s)| ("tag", r, s)))
        .chain(authors.into_iter().map(|(r, s)| ("author", r, s)));
    for (kind, r, s) in links {
        *counts.entry((kind.to_owned(), r, s)).or_default() += 1;
    }
    let mut counted: Vec<TallyRow> = counts.into_iter().map(|((k, r, s), n)| (k, r, s, n)).collect();
    stored.sort();
    counted.sort();
    (stored, counted)
}

/// Asserts that `article_tallies` holds what a recount of `db` gives.
pub fn assert_tallies_match(db: &TestDb, after: &str) {
    let (stored, counted) = tallies_and_recount(db);
    assert!(!counted.is_empty(), "{after}: nothing to count");
    assert_eq!(stored, counted, "{after}: the tallies differ from a recount");
}

/// `meta.total` of `path` (one page of up to 100), and how many items came.
async fn total_and_items(app: &TestApp, path: &str) -> (i64, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let body = app.get_ok(&format!("{path}{sep}per_page=100")).await;
    (body["meta"]["total"].as_i64().unwrap_or(-1), body["data"].as_array().map_or(0, Vec::len))
}

async fn list_totals_come_from_tallies_that_match_a_recount_after_every_kind_of_write(backend: Backend) {
    // Arrange: the import (drafts, a scheduled post, threads of terms).
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    assert_tallies_match(&app.db, "the import");
    let post = |path: &'static str, body: Value| {
        let (app, editor) = (&app, &editor);
        async move {
            let res = app.authed("POST", path, editor, Some(&body)).await;
            assert_eq!(res.status.as_u16(), 201, "POST {path}: {}", String::from_utf8_lossy(&res.body));
            res.json()["data"]["id"].as_i64().unwrap()
        }
    };
    let desk = post("/api/v1/categories", json!({"name": "Tally desk"})).await;
    let topic = post("/api/v1/tags", json!({"name": "tallied"})).await;
    let other = post("/api/v1/tags", json!({"name": "recounted"})).await;
    let lists = ["/api/v1/articles", "/api/v1/articles?category=tally-desk", "/api/v1/articles?tag=tallied"];
    let before: Vec<(i64, usize)> =
        futures_util::future::join_all(lists.iter().map(|p| total_and_items(&app, p))).await;

    // Act and assert, one kind of write at a time.
    let (draft, _) =
        app.create_article(&editor, json!({"title": "Tally draft", "categories": [desk], "tags": [topic]})).await;
    let draft = draft["id"].as_i64().unwrap();
    assert_tallies_match(&app.db, "a draft created with terms");
    patch_article(&app, &editor, draft, json!({"status": "published"})).await;
    assert_tallies_match(&app.db, "publishing");
    let (later, _) = app
        .create_article(
            &editor,
            json!({"title": "Tally later", "status": "scheduled", "published_at": "2999-01-01T00:00:00Z",
                   "categories": [desk], "tags": [topic, other]}),
        )
        .await;
    let later = later["id"].as_i64().unwrap();
    assert_tallies_match(&app.db, "scheduling");
    let after: Vec<(i64, usize)> = futures_util::future::join_all(lists.iter().map(|p| total_and_items(&app, p))).await;
    for ((path, (was, _)), (total, items)) in lists.iter().zip(&before).zip(&after) {
        assert_eq!(*total, was + 1, "{path}: one article more is public");
        assert_eq!(*total as usize, *items, "{path}: the total is what the list holds");
    }

    // A scheduled article whose time has come counts without a write to it
    // (the clock moved, not the data; the tally still says "scheduled").
    {
        use broadsheet::db::schema::articles;
        use diesel::prelude::*;
        let past = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        diesel::update(articles::table.find(later))
            .set(articles::published_at.eq(past))
            .execute(&mut *app.db.conn())
            .unwrap();
    }
    for path in
        ["/api/v1/articles?tag=recounted", "/api/v1/articles?tag=tallied", "/api/v1/articles?category=tally-desk"]
    {
        let (total, items) = total_and_items(&app, path).await;
        assert_eq!(total as usize, items, "{path}: a due scheduled article is counted");
        assert!(total >= 1, "{path}: {total}");
    }
    let (total, items) = total_and_items(&app, "/api/v1/articles?tag=tallied").await;
    assert_eq!((total, items), (2, 2), "the draft made public and the due scheduled article");

    patch_article(&app, &editor, draft, json!({"tags": [other], "categories": []})).await;
    assert_tallies_match(&app.db, "re-filing");
    patch_article(&app, &editor, draft, json!({"status": "archived"})).await;
    assert_tallies_match(&app.db, "archiving");
    let merged = app.authed("POST", "/api/v1/tags/recounted/merge", &editor, Some(&json!({"into": "tallied"}))).await;
    assert_eq!(merged.status.as_u16(), 200, "{}", String::from_utf8_lossy(&merged.body));
    assert_tallies_match(&app.db, "merging tags");
    let deleted = app.authed("DELETE", "/api/v1/categories/tally-desk", &editor, None).await;
    assert_eq!(deleted.status.as_u16(), 200, "{}", String::from_utf8_lossy(&deleted.body));
    assert_tallies_match(&app.db, "deleting a category");
    let (_, etag) = app.get_ok_as(&format!("/api/v1/articles/{later}"), &editor).await;
    let deleted =
        app.authed_with("DELETE", &format!("/api/v1/articles/{later}"), &editor, &[("If-Match", &etag)], None).await;
    assert!(deleted.status.is_success(), "{}", String::from_utf8_lossy(&deleted.body));
    assert_tallies_match(&app.db, "deleting an article");
    let reviewer = app.get_ok("/api/v1/authors/themereviewteam").await["data"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/authors/themedemos?reassign_to={reviewer}");
    let reassigned = app.authed("DELETE", &path, &editor, None).await;
    assert!(reassigned.status.is_success(), "{}", String::from_utf8_lossy(&reassigned.body));
    assert_tallies_match(&app.db, "reassigning an author's bylines");
    for path in ["/api/v1/articles", "/api/v1/articles?author=themereviewteam", "/api/v1/articles?tag=tallied"] {
        let (total, items) = total_and_items(&app, path).await;
        assert_eq!(total as usize, items, "{path}: the total is what the list holds");
    }
}

/// Ids of `path` in order, read by page number (pages of 3) and by cursor
/// (pages of 2), checked to agree with each other.
async fn tag_ids_both_ways(app: &TestApp, path: &str) -> Vec<i64> {
    let mut by_page = Vec::new();
    for page in 1.. {
        let body = app.get_ok(&format!("{path}&per_page=3&page={page}")).await;
        let got = ids(&body);
        if got.is_empty() {
            break;
        }
        by_page.extend(got);
        assert!(page < 100, "{path}: the pages do not end");
    }
    let (walked, _) = walk(app, &format!("{path}&per_page=2&after=start")).await;
    assert_eq!(walked, by_page, "{path}: the cursor walk differs from the numbered pages");
    by_page
}

/// A list of one tag (on SQLite read off the tag links' own index, which
/// holds a copy of each article's time) equals the same list through the
/// general filter (a second, always-true filter takes it there), after
/// each write that moves an article in or out of a tag or in time.
async fn a_tag_list_holds_what_the_general_filter_finds_after_every_kind_of_write(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let tag = |name: &'static str| {
        let (app, editor) = (&app, &editor);
        async move {
            let res = app.authed("POST", "/api/v1/tags", editor, Some(&json!({ "name": name }))).await;
            assert_eq!(res.status.as_u16(), 201, "POST tag: {}", String::from_utf8_lossy(&res.body));
            res.json()["data"]["id"].as_i64().unwrap()
        }
    };
    let (paged, spare) = (tag("paged").await, tag("spare").await);
    let fast = "/api/v1/articles?tag=paged";
    let general = "/api/v1/articles?tag=paged&published_after=1900-01-01T00:00:00Z";
    let check = |after: &'static str, want: usize| {
        let app = &app;
        async move {
            let got = tag_ids_both_ways(app, fast).await;
            let oracle = tag_ids_both_ways(app, general).await;
            assert_eq!(got, oracle, "{after}: the tag's list differs from the general filter's");
            assert_eq!(got.len(), want, "{after}: {got:?}");
            got
        }
    };

    // Act and assert: articles filed under the tag at creation, in several
    // times, two sharing one time (the id breaks the tie) and one not yet due.
    let mut made = Vec::new();
    for (i, when) in ["2020-01-01T00:00:00Z", "2021-06-01T00:00:00Z", "2021-06-01T00:00:00Z", "2019-03-01T00:00:00Z"]
        .into_iter()
        .enumerate()
    {
        let (a, _) = app
            .create_article(
                &editor,
                json!({"title": format!("Paged {i}"), "status": "published", "published_at": when, "tags": [paged]}),
            )
            .await;
        made.push(a["id"].as_i64().unwrap());
    }
    let (later, _) = app
        .create_article(
            &editor,
            json!({"title": "Paged later", "status": "scheduled", "published_at": "2999-01-01T00:00:00Z",
                   "tags": [paged, spare]}),
        )
        .await;
    let later = later["id"].as_i64().unwrap();
    let (draft, _) = app.create_article(&editor, json!({"title": "Paged draft", "tags": [paged]})).await;
    let draft = draft["id"].as_i64().unwrap();
    let got = check("creating", 4).await;
    assert_eq!(got, vec![made[2], made[1], made[0], made[3]], "newest first, the later id first on a tie");

    // The article moves in time: the tag's list follows.
    patch_article(&app, &editor, made[3], json!({"published_at": "2022-01-01T00:00:00Z"})).await;
    let got = check("moving an article in time", 4).await;
    assert_eq!(got[0], made[3], "the moved article leads");
    // Filed under the tag by an edit, and publishing the draft.
    let (old, _) = app.create_article(&editor, json!({"title": "Paged by edit", "status": "published"})).await;
    let old = old["id"].as_i64().unwrap();
    patch_article(&app, &editor, old, json!({"tags": [paged]})).await;
    check("filing by an edit", 5).await;
    patch_article(&app, &editor, draft, json!({"status": "published"})).await;
    check("publishing a draft", 6).await;
    // Taken out of the tag, and unpublished.
    patch_article(&app, &editor, made[0], json!({"tags": [spare]})).await;
    check("re-filing", 5).await;
    patch_article(&app, &editor, made[1], json!({"status": "draft"})).await;
    check("unpublishing", 4).await;
    // The scheduled article comes due (the clock moved, not the data).
    {
        use broadsheet::db::schema::articles;
        use diesel::prelude::*;
        let past = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        diesel::update(articles::table.find(later))
            .set(articles::published_at.eq(past))
            .execute(&mut *app.db.conn())
            .unwrap();
    }
    let got = check("a scheduled article coming due", 5).await;
    assert_eq!(got, vec![draft, old, later, made[3], made[2]], "published just now, then by time");
    // Merging another tag into this one brings its articles along.
    let merged = app.authed("POST", "/api/v1/tags/spare/merge", &editor, Some(&json!({"into": "paged"}))).await;
    assert_eq!(merged.status.as_u16(), 200, "{}", String::from_utf8_lossy(&merged.body));
    check("merging a tag in", 6).await;
}

/// A list of one category with no subcategories (read off the category
/// links' own index, which holds a copy of each article's time) equals the
/// same list through the general filter, after each write that moves an
/// article in or out of the category or in time; a category with a
/// subcategory (the general walk) holds its own and its child's articles.
async fn a_category_list_holds_what_the_general_filter_finds_after_every_kind_of_write(backend: Backend) {
    // Arrange
    let Some(app) = TestApp::with_fixture(backend).await else { return };
    let editor = app.token_for("editor").await;
    let category = |body: Value| {
        let (app, editor) = (&app, &editor);
        async move {
            let res = app.authed("POST", "/api/v1/categories", editor, Some(&body)).await;
            assert_eq!(res.status.as_u16(), 201, "POST category: {}", String::from_utf8_lossy(&res.body));
            res.json()["data"]["id"].as_i64().unwrap()
        }
    };
    let desk = category(json!({"name": "Paged desk"})).await;
    let spare = category(json!({"name": "Spare desk"})).await;
    let check = |path: &'static str, after: &'static str, want: usize| {
        let app = &app;
        async move {
            let got = tag_ids_both_ways(app, path).await;
            let oracle = tag_ids_both_ways(app, &format!("{path}&published_after=1900-01-01T00:00:00Z")).await;
            assert_eq!(got, oracle, "{after}: {path} differs from the general filter's");
            assert_eq!(got.len(), want, "{after}: {path}: {got:?}");
            got
        }
    };
    let fast = "/api/v1/articles?category=paged-desk";

    // Act and assert: filed at creation, in several times, two sharing one
    // time (the id breaks the tie), one not yet due and a draft.
    let mut made = Vec::new();
    for (i, when) in ["2020-01-01T00:00:00Z", "2021-06-01T00:00:00Z", "2021-06-01T00:00:00Z", "2019-03-01T00:00:00Z"]
        .into_iter()
        .enumerate()
    {
        let body =
            json!({"title": format!("Desk {i}"), "status": "published", "published_at": when, "categories": [desk]});
        made.push(app.create_article(&editor, body).await.0["id"].as_i64().unwrap());
    }
    let (later, _) = app
        .create_article(
            &editor,
            json!({"title": "Desk later", "status": "scheduled", "published_at": "2999-01-01T00:00:00Z",
                   "categories": [desk, spare]}),
        )
        .await;
    let later = later["id"].as_i64().unwrap();
    let (draft, _) = app.create_article(&editor, json!({"title": "Desk draft", "categories": [desk]})).await;
    let draft = draft["id"].as_i64().unwrap();
    let got = check(fast, "creating", 4).await;
    assert_eq!(got, vec![made[2], made[1], made[0], made[3]], "newest first, the later id first on a tie");

    // The article moves in time: the category's list follows.
    patch_article(&app, &editor, made[3], json!({"published_at": "2022-01-01T00:00:00Z"})).await;
    let got = check(fast, "moving an article in time", 4).await;
    assert_eq!(got[0], made[3], "the moved article leads");
    // Filed by an edit, and publishing the draft.
    let (old, _) = app.create_article(&editor, json!({"title": "Desk by edit", "status": "published"})).await;
    let old = old["id"].as_i64().unwrap();
    patch_article(&app, &editor, old, json!({"categories": [desk]})).await;
    check(fast, "filing by an edit", 5).await;
    patch_article(&app, &editor, draft, json!({"status": "published"})).await;
    check(fast, "publishing a draft", 6).await;
    // Taken out of the category, and unpublished.
    patch_article(&app, &editor, made[0], json!({"categories": [spare]})).await;
    check(fast, "re-filing", 5).await;
    patch_article(&app, &editor, made[1], json!({"status": "draft"})).await;
    check(fast, "unpublishing", 4).await;
    // The scheduled article comes due (the clock moved, not the data).
    {
        use broadsheet::db::schema::articles;
        use diesel::prelude::*;
        let past = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        diesel::update(articles::table.find(later))
            .set(articles::published_at.eq(past))
            .execute(&mut *app.db.conn())
            .unwrap();
    }
    let got = check(fast, "a scheduled article coming due", 5).await;
    assert_eq!(got, vec![draft, old, later, made[3], made[2]], "published just now, then by time");

    // A subcategory: the parent's list takes the general walk and holds the
    // child's articles too, once each; the child's list reads its own links.
    let child = category(json!({"name": "Desk child", "parent_id": spare})).await;
    patch_article(&app, &editor, made[2], json!({"categories": [desk, child]})).await;
    let got = check("/api/v1/articles?category=spare-desk", "filing under a subcategory", 3).await;
    assert_eq!(got, vec![later, made[2], made[0]], "the parent holds its own and its child's articles");
    let got = check("/api/v1/articles?category=desk-child", "filing under a subcategory", 1).await;
    assert_eq!(got, vec![made[2]]);
    check(fast, "filing under a subcategory", 5).await;
}
