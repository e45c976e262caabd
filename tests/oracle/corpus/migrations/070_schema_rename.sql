-- ALTER SCHEMA … RENAME TO moves every table and type with it.
CREATE SCHEMA staging_area;
CREATE TABLE staging_area.imports (id INT, payload JSONB);
CREATE TYPE staging_area.import_state AS ENUM ('new', 'done');
ALTER SCHEMA staging_area RENAME TO imports;
ALTER TABLE imports.imports ADD COLUMN state imports.import_state;
