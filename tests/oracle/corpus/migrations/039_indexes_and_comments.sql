-- Statements that change no table, column or type.
CREATE INDEX IF NOT EXISTS idx_bookings_status ON core.bookings (status);
CREATE UNIQUE INDEX idx_customers_email_lower ON core.customers (lower(email));
CREATE INDEX CONCURRENTLY idx_bookings_event_date ON core.bookings (event_date) WHERE status <> 'pending';
COMMENT ON COLUMN core.bookings.status IS 'Lifecycle';
COMMENT ON TYPE core.booking_status IS 'ALTER TYPE core.booking_status ADD VALUE ''ghost''';
ANALYZE core.bookings;
