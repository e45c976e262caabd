-- A condition driftguard cannot evaluate runs its THEN branch (as it does here).
DO $$
DECLARE
    n INTEGER;
BEGIN
    SELECT count(*) INTO n FROM core.customers;
    IF n >= 0 THEN
        ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS segment VARCHAR(20);
    END IF;
    PERFORM 1;
END $$;
