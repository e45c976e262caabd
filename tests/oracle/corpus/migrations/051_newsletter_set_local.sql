-- SET LOCAL lasts until the end of the transaction, not the file.
CREATE SCHEMA newsletter;
BEGIN;
SET LOCAL search_path TO newsletter, public;
CREATE TABLE subscribers (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    confirmed BOOLEAN DEFAULT false
);
COMMIT;
CREATE TABLE after_local_commit (id INT);
