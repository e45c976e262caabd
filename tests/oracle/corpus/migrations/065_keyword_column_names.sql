-- Column names that are also keywords or type names.
CREATE TABLE ops.pricing_rules (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT,
    key VARCHAR(40),
    value NUMERIC,
    level INT,
    position INT,
    time TIMESTAMPTZ,
    date DATE,
    interval INTERVAL,
    year INT,
    text TEXT,
    "check" BOOLEAN,
    "default" TEXT,
    "Primary" INT,
    comment TEXT,
    data JSONB,
    zone TEXT
);
ALTER TABLE ops.pricing_rules ADD COLUMN timestamp TIMESTAMP;
ALTER TABLE ops.pricing_rules ADD COLUMN varchar VARCHAR(3);
