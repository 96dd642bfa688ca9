// A front end's day, typed end to end from the OpenAPI spec:
// list and page through articles, read one, sign in, write a draft, edit it
// with its ETag, publish it, and read it back as the public.
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

const baseUrl = process.env.BROADSHEET_URL ?? "http://127.0.0.1:8080";
const email = process.env.BROADSHEET_EMAIL ?? "";
const password = process.env.BROADSHEET_PASSWORD ?? "";

const api = createClient<paths>({ baseUrl });

async function main(): Promise<void> {
  // Public reads, paging through every page.
  const first = await api.GET("/api/v1/articles", { params: { query: { per_page: 10 } } });
  assert.equal(first.response.status, 200);
  assert.ok(first.data, "a page of articles");
  const pages = first.data.meta.total_pages;
  let seen = first.data.data.length;
  for (let page = 2; page <= pages; page++) {
    const next = await api.GET("/api/v1/articles", { params: { query: { per_page: 10, page } } });
    assert.ok(next.data);
    seen += next.data.data.length;
  }
  assert.equal(seen, first.data.meta.total, "paging visits every article once");
  // Without `fields=`, list items are whole summaries (the spec's `ArticleFields`
  // covers the narrowed items of a `fields=` list).
  const firstArticle = first.data.data[0] as components["schemas"]["ArticleSummary"] | undefined;
  assert.ok(firstArticle, "at least one published article");
  const one = await api.GET("/api/v1/articles/{article}", { params: { path: { article: firstArticle.slug } } });
  assert.ok(one.data);
  assert.equal(one.data.data.slug, firstArticle.slug);

  // Sign in and write.
  const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
  assert.ok(login.data, `login failed: ${JSON.stringify(login.error)}`);
  const headers = { Authorization: `Bearer ${login.data.data.access_token}` };

  const title = `Smoke test ${Date.now()}`;
  const byline = firstArticle.bylines[0];
  assert.ok(byline, "an author to credit");
  const created = await api.POST("/api/v1/articles", {
    headers,
    body: { title, body: "Written by the **TypeScript** smoke test.", body_format: "markdown", bylines: [byline.id] },
  });
  assert.equal(created.response.status, 201, JSON.stringify(created.error));
  assert.ok(created.data);
  assert.equal(created.data.data.status, "draft");
  const id = String(created.data.data.id);
  let etag = created.response.headers.get("etag");
  assert.ok(etag, "an ETag to edit with");

  const edited = await api.PATCH("/api/v1/articles/{article}", {
    headers,
    params: { path: { article: id }, header: { "If-Match": etag } },
    body: { subtitle: "Now with a standfirst" },
  });
  assert.equal(edited.response.status, 200, JSON.stringify(edited.error));
  etag = edited.response.headers.get("etag");
  assert.ok(etag);

  const stale = await api.PATCH("/api/v1/articles/{article}", {
    headers,
    params: { path: { article: id }, header: { "If-Match": `"a${id}-v1"` } },
    body: { subtitle: "A lost update" },
  });
  assert.equal(stale.response.status, 412, "a stale ETag is refused");

  const published = await api.PATCH("/api/v1/articles/{article}", {
    headers,
    params: { path: { article: id }, header: { "If-Match": etag } },
    body: { status: "published" },
  });
  assert.ok(published.data, JSON.stringify(published.error));
  assert.equal(published.data.data.status, "published");
  const slug = published.data.data.slug;

  // Read it back as the public.
  const publicRead = await api.GET("/api/v1/articles/{article}", { params: { path: { article: slug } } });
  assert.ok(publicRead.data);
  assert.equal(publicRead.data.data.subtitle, "Now with a standfirst");
  assert.equal(publicRead.data.data.body_source, null, "the public never sees the source");
  console.log(`smoke: ${seen} articles over ${pages} pages; wrote, edited and published "${title}" (${slug})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
