-- DDL in comments and strings is not DDL.
-- ALTER TABLE core.customers ADD COLUMN ghost_comment INT;
/* CREATE TABLE core.ghost_block (x int);
   /* nested: DROP TABLE core.customers; */
   ALTER TABLE core.customers ADD COLUMN ghost_nested INT; */
COMMENT ON TABLE core.customers IS 'DROP TABLE core.customers; ALTER TABLE core.customers ADD COLUMN ghost_string INT;';
SELECT 'CREATE TABLE core.ghost_select (x int)';
SELECT E'ALTER TABLE core.customers ADD COLUMN ghost_escape INT;\n';
SELECT $q$ DROP SCHEMA core CASCADE; $q$;
CREATE TABLE core.notes (
    id SERIAL PRIMARY KEY,
    body TEXT DEFAULT 'ALTER TABLE core.customers ADD COLUMN ghost_default INT;' -- a column, not DDL
);
