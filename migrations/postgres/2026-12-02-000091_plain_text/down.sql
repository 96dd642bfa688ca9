-- The conversion is one-way: the HTML of old titles is not kept. Rolling back
-- leaves the plain-text titles in place (they are valid titles either way).
SELECT 1;
