-- Migration: core.customers, the handbook's first table
BEGIN;

CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    full_name VARCHAR(120) NOT NULL,
    phone VARCHAR(32),
    country CHAR(2) DEFAULT 'US',
    notes TEXT,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

COMMENT ON TABLE core.customers IS 'Customer profiles';
COMMENT ON COLUMN core.customers.email IS 'Login and receipts';

COMMIT;
