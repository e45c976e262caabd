-- One ALTER TABLE, several actions.
ALTER TABLE core.customers
    ADD COLUMN loyalty_points INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN referral_code VARCHAR(12),
    ALTER COLUMN phone TYPE VARCHAR(40),
    ALTER COLUMN full_name DROP NOT NULL,
    ADD CONSTRAINT customers_loyalty_nonneg CHECK (loyalty_points >= 0);
