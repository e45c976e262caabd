-- PostgreSQL 12 and later add an enum value inside a transaction, but refuse to use it there.
BEGIN;
ALTER TYPE core.mood ADD VALUE 'calm';
ALTER TABLE core.customers ADD COLUMN mood core.mood DEFAULT 'calm';
COMMIT;

BEGIN;
ALTER TYPE core.mood ADD VALUE 'tired';
ALTER TABLE core.customers ADD COLUMN mood core.mood DEFAULT 'happy';
COMMIT;
