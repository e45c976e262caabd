-- Default expressions of every shape, so the reader finds where they end.
CREATE TABLE core.defaults (
    a UUID DEFAULT gen_random_uuid() PRIMARY KEY,
    b JSONB DEFAULT '{}'::jsonb NOT NULL,
    c TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    d TIMESTAMPTZ DEFAULT (now() + interval '1 day') NOT NULL,
    e VARCHAR(20) DEFAULT 'pending' NOT NULL,
    f INTEGER DEFAULT -1,
    g TEXT[] DEFAULT ARRAY[]::TEXT[],
    h INTEGER DEFAULT CASE WHEN true THEN 1 ELSE 0 END NOT NULL,
    i TEXT DEFAULT 'it''s' COLLATE "C",
    j NUMERIC(8, 2) DEFAULT 0.00 CHECK (j >= 0) NOT NULL,
    k BOOLEAN DEFAULT NULL,
    l TEXT NOT NULL DEFAULT ('a' || 'b'),
    m DATE DEFAULT '2020-01-01'::date,
    n INTERVAL DEFAULT '15 minutes'
);
