CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255),
    phone INTEGER,
    nickname VARCHAR(40) NOT NULL
);
CREATE TABLE IF NOT EXISTS core.bookings (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id),
    status core.booking_status NOT NULL,
    venue_id INTEGER,
    total NUMERIC(10, 2)
);
