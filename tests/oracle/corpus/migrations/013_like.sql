-- LIKE copies columns (NOT NULL too), in the position the LIKE stands.
CREATE TABLE core.customers_archive (LIKE core.customers);

CREATE TABLE core.customers_snapshot (
    snapshot_id BIGSERIAL,
    LIKE core.customers INCLUDING DEFAULTS,
    taken_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
