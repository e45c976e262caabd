-- =====================================================
-- Migration: contact preferences on the Alembic-made customers table
-- Created: 2024-12-15
-- =====================================================
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core'
        AND table_name = 'customers'
        AND column_name = 'contact_preference'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20) DEFAULT 'any';
        RAISE NOTICE 'Added contact_preference';
    END IF;
END $$;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'ai_contact_ok'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN NOT NULL DEFAULT TRUE;
    END IF;
END $$;

COMMENT ON COLUMN core.customers.contact_preference IS 'sms, email or any';
CREATE INDEX IF NOT EXISTS idx_customers_contact ON core.customers (contact_preference);

COMMIT;

-- ROLLBACK SCRIPT
-- ALTER TABLE core.customers DROP COLUMN IF EXISTS contact_preference;
-- ALTER TABLE core.customers DROP COLUMN IF EXISTS ai_contact_ok;
