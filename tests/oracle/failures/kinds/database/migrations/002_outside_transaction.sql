-- Outside a transaction: each failing statement is skipped alone, the others apply.
ALTER TABLE core.customers ADD COLUMN email TEXT;
ALTER TABLE core.customers ADD COLUMN phone TEXT;
ALTER TABLE core.customers ALTER COLUMN nickname SET NOT NULL;
ALTER TABLE core.customers ALTER COLUMN nickname TYPE VARCHAR(20);
ALTER TABLE core.customers ALTER COLUMN nickname SET DEFAULT 'x';
ALTER TABLE core.customers DROP COLUMN nickname;
ALTER TABLE core.customers DROP COLUMN IF EXISTS nickname;
ALTER TABLE core.customers RENAME COLUMN nickname TO nick;
ALTER TABLE core.customers RENAME COLUMN phone TO email;
COMMENT ON COLUMN core.customers.nickname IS 'never made';
COMMENT ON COLUMN core.customers.phone IS 'fine';
CREATE INDEX idx_customers_nickname ON core.customers (nickname);
CREATE INDEX idx_customers_phone ON core.customers (phone);
CREATE TABLE core.customers (id INTEGER);
CREATE TABLE IF NOT EXISTS core.customers (id INTEGER);
CREATE TYPE core.mood AS ENUM ('angry');
CREATE TABLE core.notes (
    id UUID PRIMARY KEY,
    customer_id UUID REFERENCES core.customers (id)
);
CREATE TABLE core.tags (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers (nope)
);
CREATE TABLE core.labels (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER REFERENCES core.invoices (id)
);
ALTER TABLE core.invoices ADD COLUMN total NUMERIC(10, 2);
COMMENT ON COLUMN core.invoices.total IS 'the table comes later';
ALTER TABLE core.orders ADD COLUMN note_id UUID REFERENCES core.customers (id);
ALTER TABLE core.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES core.customers (id);
ALTER TABLE core.orders ADD CONSTRAINT orders_shipper_fk FOREIGN KEY (shipper_id) REFERENCES core.customers (id);
ALTER TABLE core.orders ADD COLUMN a INTEGER, ADD COLUMN customer_id INTEGER;
ALTER TABLE core.orders ADD COLUMN b INTEGER;
