-- An unqualified to_regclass('t') or 't'::regclass finds t along the search path only.
DO $$
BEGIN
    -- core.notifications exists, but core is not on the path: the table is created in public.
    IF to_regclass('notifications') IS NULL THEN
        CREATE TABLE notifications (id INT, in_public BOOLEAN);
    END IF;
END $$;

SET search_path TO core, public;
DO $$
BEGIN
    IF to_regclass('invoices') IS NULL THEN
        CREATE TABLE invoices_never (id INT);
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = 'invoices'::regclass AND attname = 'due_on' AND NOT attisdropped
    ) THEN
        ALTER TABLE invoices ADD COLUMN due_on DATE;
    END IF;
END $$;
