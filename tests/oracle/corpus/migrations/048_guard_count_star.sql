-- (SELECT count(*) ...) = 0 guards.
DO $$
BEGIN
    IF (SELECT count(*) FROM information_schema.columns
        WHERE table_schema = 'ops' AND table_name = 'menu_items' AND column_name = 'is_available') = 0 THEN
        ALTER TABLE ops.menu_items ADD COLUMN is_available BOOLEAN NOT NULL DEFAULT true;
    END IF;
    IF (SELECT count(*) FROM information_schema.columns
        WHERE table_schema = 'ops' AND table_name = 'menu_items' AND column_name = 'name') > 0 THEN
        ALTER TABLE ops.menu_items ALTER COLUMN name TYPE VARCHAR(200);
    END IF;
END $$;
