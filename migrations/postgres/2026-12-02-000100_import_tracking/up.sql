-- Repeatable WordPress imports (issue 15 §2): each imported article remembers
-- the version its last import wrote and a hash of the WXR item it came from,
-- so a re-import can tell "edited in broadsheet since" (a conflict) from
-- "unchanged in the export" (nothing to write). A table of its own: articles
-- is at diesel's 32-column limit.
CREATE TABLE article_imports (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL
);
-- Imports never bumped the version before this migration, so an imported row
-- still at version 1 is as its last import left it. The empty hash matches no
-- item: the next import rewrites unedited rows once.
INSERT INTO article_imports (article_id, version, hash)
    SELECT id, 1, '' FROM articles WHERE import_key IS NOT NULL;
