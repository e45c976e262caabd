CREATE TABLE core.legacy (id INTEGER);
DROP TABLE core.legacy;
ALTER TABLE core.legacy ADD COLUMN x INTEGER;
COMMENT ON COLUMN core.legacy.id IS 'dropped earlier';
CREATE INDEX idx_legacy_id ON core.legacy (id);
ALTER TABLE core.legacy DROP COLUMN IF EXISTS id;
