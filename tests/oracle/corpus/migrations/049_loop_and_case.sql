-- DDL inside a loop that runs once, and a CASE statement.
DO $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT 1 AS one LOOP
        ALTER TABLE ops.menu_items ADD COLUMN IF NOT EXISTS spice_level SMALLINT;
    END LOOP;
    CASE
        WHEN current_setting('server_version_num')::int >= 100000 THEN
            ALTER TABLE ops.menu_items ADD COLUMN IF NOT EXISTS allergens TEXT[];
        ELSE
            ALTER TABLE ops.menu_items ADD COLUMN IF NOT EXISTS allergens TEXT;
    END CASE;
END $$;
