-- EXECUTE of a constant string runs that SQL.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS birthday DATE';
    EXECUTE 'CREATE TABLE IF NOT EXISTS ops.audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(), '
         || 'actor TEXT)';
    EXECUTE $sql$ALTER TABLE ops.audit ADD COLUMN detail JSONB$sql$;
    EXECUTE E'ALTER TABLE ops.audit ADD COLUMN reason TEXT DEFAULT \'n/a\'';
END $$;
