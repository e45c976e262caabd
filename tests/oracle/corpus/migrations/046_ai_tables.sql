-- The ai schema of the handbook.
BEGIN;
CREATE TABLE IF NOT EXISTS ai.kb_chunks (
    id BIGSERIAL PRIMARY KEY,
    source_url TEXT,
    chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL,
    embedding REAL[],
    token_count INTEGER,
    metadata JSONB DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ai.training_data (
    id BIGSERIAL PRIMARY KEY,
    prompt TEXT NOT NULL,
    completion TEXT NOT NULL,
    kind ai.model_kind DEFAULT 'chat',
    approved BOOLEAN DEFAULT false
);
CREATE TABLE IF NOT EXISTS ai.kb_chunks (
    id INT,
    this_column_is_never_created TEXT
);
COMMIT;
