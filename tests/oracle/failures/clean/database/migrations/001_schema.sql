BEGIN;
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.customers (
    id BIGSERIAL PRIMARY KEY,
    code VARCHAR(20) NOT NULL UNIQUE,
    external_id UUID UNIQUE
);
CREATE TYPE shop.status AS ENUM ('new', 'paid');
CREATE TABLE IF NOT EXISTS shop.orders (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES shop.customers (id),
    customer_code TEXT REFERENCES shop.customers (code),
    customer_ref UUID REFERENCES shop.customers (external_id),
    parent_id INTEGER REFERENCES shop.orders (id),
    status shop.status NOT NULL DEFAULT 'new'
);
COMMIT;
