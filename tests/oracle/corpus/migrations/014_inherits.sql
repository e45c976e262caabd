-- INHERITS: parent columns first; a redeclared column merges (NOT NULL if either says so).
CREATE TABLE ops.events (
    id BIGSERIAL,
    happened_at TIMESTAMPTZ NOT NULL,
    payload JSONB
);

CREATE TABLE ops.login_events (
    user_id BIGINT,
    happened_at TIMESTAMPTZ,
    ip INET
) INHERITS (ops.events);

CREATE TABLE ops.tagged (
    tag TEXT NOT NULL
);

CREATE TABLE ops.tagged_login_events (
    note TEXT
) INHERITS (ops.login_events, ops.tagged);
