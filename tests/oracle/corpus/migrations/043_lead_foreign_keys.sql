-- References across schemas, referential actions, deferrable constraints.
CREATE SCHEMA lead;
CREATE TABLE lead.leads (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers ON DELETE SET NULL ON UPDATE CASCADE,
    contact_id INT REFERENCES crm.contacts (id) MATCH SIMPLE DEFERRABLE INITIALLY DEFERRED,
    score SMALLINT DEFAULT 0 NOT NULL,
    source TEXT NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'phone', 'social')),
    created_at TIMESTAMPTZ DEFAULT now() NOT NULL
);
