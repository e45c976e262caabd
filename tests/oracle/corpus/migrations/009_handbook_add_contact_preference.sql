-- =====================================================
-- Migration: Add contact_preference to customers
-- Created: 2024-12-15
-- Purpose: the handbook's required structure, verbatim
-- =====================================================

BEGIN;

-- Idempotent checks (ALWAYS!)
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

-- Always add comments
COMMENT ON COLUMN core.customers.contact_preference IS 'sms, email or phone';

-- Add indexes if needed
CREATE INDEX IF NOT EXISTS idx_customers_contact_preference ON core.customers (contact_preference);

COMMIT;

-- =====================================================
-- ROLLBACK SCRIPT (required for all migrations!)
-- =====================================================
-- ALTER TABLE core.customers DROP COLUMN IF EXISTS contact_preference;
