-- Guard shapes beyond the handbook's: to_regclass, pg_attribute, pg_class, SELECT FROM,
-- upper-case catalogue names.
DO $$
BEGIN
    IF to_regclass('ops.menu_bundles') IS NULL THEN
        CREATE TABLE ops.menu_bundles (id SERIAL PRIMARY KEY, name TEXT NOT NULL);
    END IF;
    IF to_regclass('ops.menu_items') IS NULL THEN
        CREATE TABLE ops.menu_items (never_created INT);
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = 'ops.menu_bundles'::regclass AND attname = 'price_cents' AND NOT attisdropped
    ) THEN
        ALTER TABLE ops.menu_bundles ADD COLUMN price_cents INTEGER;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'ops' AND c.relname = 'bundle_items'
    ) THEN
        CREATE TABLE ops.bundle_items (bundle_id INT NOT NULL, item_id INT NOT NULL);
    END IF;
    IF NOT EXISTS (SELECT FROM INFORMATION_SCHEMA.COLUMNS
                   WHERE TABLE_SCHEMA = 'ops' AND TABLE_NAME = 'bundle_items' AND COLUMN_NAME = 'quantity') THEN
        ALTER TABLE ops.bundle_items ADD COLUMN quantity SMALLINT NOT NULL DEFAULT 1;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE t.typname = 'menu_category' AND n.nspname = 'ops') THEN
        ALTER TABLE ops.menu_bundles ADD COLUMN category ops.menu_category;
    END IF;
END $$;
