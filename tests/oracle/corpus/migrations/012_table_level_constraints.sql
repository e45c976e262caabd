-- Table-level PRIMARY KEY makes its columns NOT NULL; other constraints change nothing.
CREATE TABLE identity.user_roles (
    user_id BIGINT,
    role TEXT,
    granted_at TIMESTAMPTZ DEFAULT now(),
    granted_by BIGINT,
    PRIMARY KEY (user_id, role),
    FOREIGN KEY (user_id) REFERENCES identity.users (id) ON DELETE CASCADE,
    UNIQUE (role, user_id),
    CHECK (role <> '')
);

CREATE TABLE identity.permissions (
    code TEXT,
    description TEXT,
    scope TEXT,
    CONSTRAINT permissions_pkey PRIMARY KEY (code),
    CONSTRAINT permissions_scope_check CHECK (scope IN ('read', 'write'))
);

CREATE TABLE identity.stations (
    id INTEGER,
    name VARCHAR(80) NOT NULL,
    manager_id BIGINT,
    CONSTRAINT stations_manager_fk FOREIGN KEY (manager_id) REFERENCES identity.users (id)
        ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (id) WITH (fillfactor = 90)
);
