-- ADD without COLUMN, ADD COLUMN IF NOT EXISTS over an existing column (no change).
ALTER TABLE core.customers ADD marketing_opt_in BOOLEAN DEFAULT false;
ALTER TABLE ONLY core.customers ADD COLUMN IF NOT EXISTS marketing_opt_in TEXT;
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS preferred_language VARCHAR(8) DEFAULT 'en';
ALTER TABLE core.customers* ADD IF NOT EXISTS "timezone" TEXT;
