-- Views and temporary tables are not base tables; unlogged tables are.
CREATE VIEW core.active_customers AS
    SELECT id, email FROM core.customers WHERE is_active;
CREATE OR REPLACE VIEW core.active_customers AS
    SELECT id, email, full_name FROM core.customers WHERE is_active;
CREATE MATERIALIZED VIEW core.booking_counts AS
    SELECT customer_id, count(*) AS n FROM core.bookings GROUP BY customer_id;
CREATE TEMP TABLE scratch_rows (x INT);
CREATE TEMPORARY TABLE IF NOT EXISTS more_scratch (y TEXT);
CREATE UNLOGGED TABLE ops.cache (
    key TEXT PRIMARY KEY,
    value JSONB,
    expires_at TIMESTAMPTZ
);
