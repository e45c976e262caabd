-- IF / ELSIF / ELSE: the first branch whose guard holds runs.
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'phone'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN phone_verified BOOLEAN DEFAULT false;
    ELSIF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'mobile'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN mobile TEXT;
    ELSE
        ALTER TABLE core.customers ADD COLUMN landline TEXT;
    END IF;
END $$;
