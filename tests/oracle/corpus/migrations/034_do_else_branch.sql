-- A guard that fails: the ELSIF or ELSE branch runs instead.
DO $body$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'no_such_column'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN wrong_branch TEXT;
    ELSIF EXISTS (
        SELECT 1 FROM information_schema.tables
        WHERE table_schema = 'core' AND table_name = 'no_such_table'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN also_wrong TEXT;
    ELSE
        ALTER TABLE core.customers ADD COLUMN else_branch_column TEXT;
    END IF;
END
$body$;
