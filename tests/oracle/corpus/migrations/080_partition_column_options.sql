-- A partition may add NOT NULL to its parent's columns; a primary key added to the parent
-- makes the partitions' columns NOT NULL too.
CREATE TABLE ops.sessions (id BIGINT, region TEXT, started_at TIMESTAMPTZ) PARTITION BY LIST (region);
CREATE TABLE ops.sessions_eu PARTITION OF ops.sessions (
    started_at WITH OPTIONS NOT NULL,
    CONSTRAINT sessions_eu_started CHECK (started_at > '2000-01-01')
) FOR VALUES IN ('eu');
CREATE TABLE ops.sessions_us PARTITION OF ops.sessions (started_at NOT NULL DEFAULT now()) FOR VALUES IN ('us');
ALTER TABLE ops.sessions ADD PRIMARY KEY (id, region);
