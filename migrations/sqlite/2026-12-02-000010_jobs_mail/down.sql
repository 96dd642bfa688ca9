DROP TABLE account_tokens;
DROP TABLE mails;
DROP TABLE job_probes;
DROP TABLE jobs;
