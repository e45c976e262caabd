-- COPY data lines are data, even when they look like DDL.
CREATE TABLE core.kv (k TEXT PRIMARY KEY, v TEXT);
COPY core.kv (k, v) FROM stdin;
a	ALTER TABLE core.customers ADD COLUMN ghost_copy INT;
b	CREATE TABLE core.ghost_copy (x int);
\.
ALTER TABLE core.kv ADD COLUMN updated_at TIMESTAMPTZ;
