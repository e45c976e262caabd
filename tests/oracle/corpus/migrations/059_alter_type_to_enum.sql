-- A text column becomes an enum column.
CREATE TABLE core.payments (
    id SERIAL PRIMARY KEY,
    booking_id BIGINT REFERENCES core.bookings (id),
    status TEXT NOT NULL DEFAULT 'pending',
    amount_cents INTEGER NOT NULL
);
ALTER TABLE core.payments ALTER COLUMN status DROP DEFAULT;
ALTER TABLE core.payments ALTER COLUMN status TYPE core.booking_status USING status::core.booking_status;
ALTER TABLE core.payments ALTER COLUMN amount_cents TYPE BIGINT, ALTER COLUMN amount_cents DROP NOT NULL;
