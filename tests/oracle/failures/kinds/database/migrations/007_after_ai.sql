ALTER TABLE ai.messages ADD COLUMN IF NOT EXISTS tokens INTEGER;
COMMENT ON COLUMN ai.conversations.started_at IS 'when it began';
