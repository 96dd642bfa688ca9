-- Issue 14, second pass.
-- 1. Consent records say on what basis they were made: the double opt-in
--    here, or an import that carried the source tool's consent data, or an
--    import without any (kept visibly apart, never passed off as consent).
ALTER TABLE subscription_consents ADD COLUMN basis TEXT NOT NULL DEFAULT 'double_opt_in'
    CHECK (basis IN ('double_opt_in', 'imported', 'imported_without_consent'));

-- 2. Deleting an article keeps its mailing and delivery history: the
--    mailing's article reference becomes NULL and the title is kept as a
--    snapshot, so the history and the once-per-article record survive.
ALTER TABLE mailings ADD COLUMN article_title TEXT;
UPDATE mailings SET article_title = (SELECT a.title FROM articles a WHERE a.id = mailings.article_id);
ALTER TABLE mailings ALTER COLUMN article_id DROP NOT NULL;
ALTER TABLE mailings DROP CONSTRAINT mailings_article_id_fkey;
ALTER TABLE mailings ADD CONSTRAINT mailings_article_id_fkey
    FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE SET NULL;
