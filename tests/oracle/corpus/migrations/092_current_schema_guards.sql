-- current_schema() in a guard is the first schema of the path that exists, not any schema.
CREATE TABLE core.dup_name (id INT);
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_name = 'dup_name'
    ) THEN
        CREATE TABLE dup_name (id INT, created_in_public BOOLEAN);
    END IF;
END $$;

SET search_path TO nonexistent_schema, ops, public;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema AND table_name = 'chefs' AND column_name = 'nickname'
    ) THEN
        ALTER TABLE chefs ADD COLUMN nickname TEXT;
    END IF;
END $$;

-- pg_type holds domains and every table's row type too, not only enums.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'short_code') THEN
        CREATE TABLE ops.only_if_no_short_code_type (id INT);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'kept_notes') THEN
        CREATE TABLE ops.only_if_no_kept_notes_type (id INT);
    END IF;
END $$;
