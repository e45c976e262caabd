-- =====================================================
-- Migration: schemas
-- Created: 2024-11-01
-- Purpose: the schemas the rest of the corpus builds in
-- =====================================================

BEGIN;

CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS identity;
CREATE SCHEMA ops;
CREATE SCHEMA IF NOT EXISTS ai AUTHORIZATION postgres;
CREATE SCHEMA IF NOT EXISTS core;

COMMIT;

-- ROLLBACK: DROP SCHEMA ai, ops, identity, core CASCADE;
