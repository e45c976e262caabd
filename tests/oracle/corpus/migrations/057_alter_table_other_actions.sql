-- Actions that change no column, mixed with one that does.
ALTER TABLE core.customers
    ALTER COLUMN email SET STATISTICS 200,
    ALTER COLUMN notes SET STORAGE EXTERNAL,
    SET (fillfactor = 90),
    ADD COLUMN last_seen_at TIMESTAMPTZ,
    REPLICA IDENTITY DEFAULT;
ALTER TABLE core.customers DISABLE TRIGGER customers_touch;
ALTER TABLE core.customers ENABLE TRIGGER customers_touch;
ALTER TABLE core.customers CLUSTER ON customers_pkey;
ALTER TABLE core.customers ALTER COLUMN loyalty_points SET DEFAULT 10, ALTER COLUMN loyalty_points DROP DEFAULT;
