DROP TABLE article_imports;
