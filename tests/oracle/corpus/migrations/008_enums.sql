-- Enum types, one created idempotently the way teams do it.
BEGIN;

CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed', 'cancelled');

DO $$
BEGIN
    CREATE TYPE identity.user_role AS ENUM ('customer', 'staff', 'admin');
EXCEPTION
    WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE core.bookings (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id) ON DELETE CASCADE,
    status core.booking_status NOT NULL DEFAULT 'pending',
    history core.booking_status[],
    guest_count SMALLINT NOT NULL CHECK (guest_count > 0),
    venue_lat DOUBLE PRECISION,
    venue_lng DOUBLE PRECISION,
    event_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

COMMIT;
