-- The schema the failing migrations run against.
CREATE SCHEMA core;
CREATE TABLE core.customers (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL
);
CREATE TYPE core.mood AS ENUM ('happy', 'sad');
CREATE TABLE core.orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers (id)
);
