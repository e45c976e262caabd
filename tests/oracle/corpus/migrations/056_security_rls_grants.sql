-- Roles, grants, row level security, policies.
CREATE SCHEMA security;
CREATE ROLE oracle_app NOLOGIN;
CREATE TABLE security.audit_log (
    id BIGSERIAL PRIMARY KEY,
    actor TEXT,
    action TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT USAGE ON SCHEMA security TO oracle_app;
GRANT SELECT, INSERT ON security.audit_log TO oracle_app;
REVOKE DELETE ON security.audit_log FROM PUBLIC;
ALTER TABLE security.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_insert ON security.audit_log FOR INSERT TO oracle_app WITH CHECK (true);
ALTER TABLE security.audit_log OWNER TO postgres;
