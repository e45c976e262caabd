-- =====================================================
-- Migration: AI conversations
-- Created: 2025-01-20
-- Purpose: the handbook team's case: a foreign key whose column type differs from the key it
--          references voids the whole file, and every ai.* table with it.
-- =====================================================

BEGIN;

CREATE SCHEMA IF NOT EXISTS ai;

CREATE TABLE IF NOT EXISTS ai.conversations (
    id UUID PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id),
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ai.messages (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES ai.conversations (id),
    customer_id UUID REFERENCES core.customers (id),
    body TEXT
);

CREATE INDEX IF NOT EXISTS idx_messages_conversation ON ai.messages (conversation_id);

COMMENT ON COLUMN ai.messages.body IS 'what was said';

COMMIT;
