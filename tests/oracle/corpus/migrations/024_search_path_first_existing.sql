-- The first schema of the path does not exist: tables land in the next one that does.
SET search_path TO nonexistent_schema, ai, public;

CREATE TABLE conversations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    summary TEXT
);
