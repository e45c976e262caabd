-- Timestamp-named migrations sort after the numbered ones.
CREATE TABLE IF NOT EXISTS ai.escalation_rules (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    model ai.model_kind,
    threshold REAL DEFAULT 0.8,
    channels TEXT[] DEFAULT '{}'::text[]
);
ALTER TABLE ai.conversations ADD COLUMN escalated BOOLEAN DEFAULT false;
