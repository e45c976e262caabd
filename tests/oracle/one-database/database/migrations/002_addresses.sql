-- Migration: addresses, referenced by the Alembic-made bookings table
BEGIN;

CREATE TABLE IF NOT EXISTS core.addresses (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers (id) ON DELETE CASCADE,
    city VARCHAR(100),
    lat DECIMAL(10, 8),
    lng DECIMAL(11, 8)
);

ALTER TABLE core.bookings ADD COLUMN IF NOT EXISTS venue_address_id INTEGER REFERENCES core.addresses (id);
ALTER TABLE core.bookings ALTER COLUMN guests TYPE INTEGER;
ALTER TABLE core.bookings ALTER COLUMN total SET NOT NULL;

COMMIT;
