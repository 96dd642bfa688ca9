-- Mailings of deleted articles have no article to point at: they go.
DELETE FROM mailings WHERE article_id IS NULL;
ALTER TABLE mailings DROP CONSTRAINT mailings_article_id_fkey;
ALTER TABLE mailings ADD CONSTRAINT mailings_article_id_fkey
    FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE CASCADE;
ALTER TABLE mailings ALTER COLUMN article_id SET NOT NULL;
ALTER TABLE mailings DROP COLUMN article_title;
ALTER TABLE subscription_consents DROP COLUMN basis;
