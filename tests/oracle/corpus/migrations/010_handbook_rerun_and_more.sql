-- The same guard again (a no-op) and two new guarded columns.
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core'
        AND table_name = 'customers'
        AND column_name = 'contact_preference'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN contact_preference TEXT;
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'ai_contact_ok'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN NOT NULL DEFAULT false;
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns c
        WHERE c.table_name = 'customers' AND c.column_name = 'flexibility_score'
          AND c.table_schema = 'core'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN flexibility_score INTEGER;
    END IF;
END $$;

COMMIT;
