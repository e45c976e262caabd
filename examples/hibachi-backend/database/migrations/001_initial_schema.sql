-- =====================================================
-- Migration: Initial schema
-- Created: 2024-11-02
-- Purpose: core and identity schemas
-- =====================================================

BEGIN;

CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS identity;

CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    full_name VARCHAR(120) NOT NULL,
    phone VARCHAR(32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS core.bookings (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id),
    guest_count INTEGER NOT NULL,
    venue_latitude DOUBLE PRECISION,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS identity.users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    "display_name" VARCHAR(80)
);

CREATE TABLE IF NOT EXISTS identity.user_roles (
    user_id INTEGER NOT NULL REFERENCES identity.users (id),
    role VARCHAR(40) NOT NULL,
    PRIMARY KEY (user_id, role)
);

COMMIT;

-- =====================================================
-- ROLLBACK SCRIPT
-- =====================================================
-- DROP TABLE IF EXISTS identity.user_roles;
-- DROP TABLE IF EXISTS identity.users;
-- DROP TABLE IF EXISTS core.bookings;
-- DROP TABLE IF EXISTS core.customers;
