-- A DO body with its own dollar tag, nested blocks and EXECUTE of a dollar-quoted string.
DO $migration$
DECLARE
    done BOOLEAN := false;
BEGIN
    <<outer>>
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM information_schema.columns
            WHERE table_schema = 'ops' AND table_name = 'chefs' AND column_name = 'home_station_id'
        ) THEN
            EXECUTE $ddl$ALTER TABLE ops.chefs ADD COLUMN home_station_id INTEGER REFERENCES identity.stations (id)$ddl$;
        END IF;
        done := true;
    END outer;
    RAISE NOTICE 'done: %', done;
END
$migration$;
