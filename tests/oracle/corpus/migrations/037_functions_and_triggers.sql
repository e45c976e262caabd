-- Function bodies mention DDL but never run here.
CREATE OR REPLACE FUNCTION core.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER customers_touch
    BEFORE UPDATE ON core.customers
    FOR EACH ROW EXECUTE FUNCTION core.touch_updated_at();

CREATE OR REPLACE FUNCTION ops.add_ghost_column() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    ALTER TABLE core.customers ADD COLUMN ghost_from_function INT;
    CREATE TABLE ops.ghost_table (x INT);
END;
$fn$;

CREATE FUNCTION ops.ghost_sql() RETURNS integer
LANGUAGE sql AS 'SELECT 1 /* ALTER TABLE core.customers ADD COLUMN ghost_sql INT */';

CREATE PROCEDURE ops.ghost_procedure()
LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE core.customers;
END $$;
