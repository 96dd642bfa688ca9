-- Marker: on SQLite this migration gives `article_tags` a copy of each
-- article's `published_at` and an index a tag's list pages through. On
-- PostgreSQL the planner drives a tag's list from statistics (an init plan
-- for the tag's ids, then `article_tags`' indexes) and its page stays flat
-- from 1,000 to 100,000 articles (bench, 2026-12-03), so nothing changes here.
SELECT 1;
