-- Openings never closed, nesting, odd spellings: what the lexer must survive.
CREATE SCHEMA core;
CREATE TABLE core.customers (id serial PRIMARY KEY, "Name" text DEFAULT E'it\'s', note varchar(20) DEFAULT 'a''b');
DO $body$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'x') THEN
    EXECUTE 'ALTER TABLE core.customers ADD COLUMN x int';
    BEGIN
      ALTER TABLE core.customers ADD COLUMN y int;
    EXCEPTION WHEN others THEN
      ALTER TABLE core.customers ADD COLUMN never int;
    END;
  END IF;
END $body$;
/* nested /* comment */ still */
ALTER TABLE ONLY core.customers ADD COLUMN IF NOT EXISTS z numeric(10, 2) NOT NULL DEFAULT (((1))), RENAME COLUMN note TO remark;
CREATE TYPE core.status AS ENUM ('a', 'b');
ALTER TYPE core.status ADD VALUE IF NOT EXISTS 'c' BEFORE 'a';
CREATE TABLE core.child (extra int) INHERITS (core.customers);
BEGIN;
SAVEPOINT s;
ALTER TABLE core.customers DROP COLUMN z;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SET search_path TO core, public;
CREATE TABLE plain (a int, b text[], c timestamp(3) with time zone DEFAULT now());
COPY plain (a) FROM stdin;
1
\.
-- migrate:down
DROP TABLE plain;
