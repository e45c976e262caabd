-- Migration: a rename on an Alembic-made table, and a column on an Alembic-made table in public
ALTER TABLE core.customers RENAME COLUMN full_name TO display_name;
SET search_path TO public;
ALTER TABLE stations ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE stations ADD COLUMN lng DOUBLE PRECISION;
