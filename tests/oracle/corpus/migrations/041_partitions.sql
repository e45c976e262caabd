-- Partitioned tables and their partitions are both base tables.
CREATE TABLE ops.metrics (
    id BIGINT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE ops.metrics_2025 PARTITION OF ops.metrics
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

CREATE TABLE ops.metrics_default PARTITION OF ops.metrics DEFAULT;
