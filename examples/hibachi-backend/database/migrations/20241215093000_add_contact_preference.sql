-- =====================================================
-- Migration: Add contact_preference to customers
-- Created: 2024-12-15
-- Purpose: Let customers choose how we reach them.
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
        ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);
        RAISE NOTICE 'Added contact_preference';
    END IF;
END $$;

COMMENT ON COLUMN core.customers.contact_preference IS 'sms, email or phone';

-- The next column was planned here but never written:
-- ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN;

CREATE INDEX IF NOT EXISTS idx_customers_contact_preference ON core.customers (contact_preference);

COMMIT;

-- =====================================================
-- ROLLBACK SCRIPT (required for all migrations!)
-- =====================================================
-- ALTER TABLE core.customers DROP COLUMN IF EXISTS contact_preference;
