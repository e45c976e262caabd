-- Guards over information_schema.tables, pg_tables and pg_type.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.tables
        WHERE table_schema = 'ops' AND table_name = 'menu_items'
    ) THEN
        CREATE TABLE ops.menu_items (
            id SERIAL PRIMARY KEY,
            name TEXT NOT NULL,
            price_cents INTEGER NOT NULL
        );
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'menu_category') THEN
        CREATE TYPE ops.menu_category AS ENUM ('appetizer', 'main', 'dessert');
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'ops' AND tablename = 'chefs') THEN
        CREATE TABLE ops.chefs (never_created INT);
    END IF;
END $$;

ALTER TABLE ops.menu_items ADD COLUMN category ops.menu_category;
