-- A failure after a statement that ran: the whole transaction is rolled back, and the
-- statements after it are the aborted transaction's cascade, not errors of their own.
BEGIN;
CREATE TABLE core.invoices (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers (id)
);
ALTER TABLE core.invoices ADD COLUMN customer_id INTEGER;
ALTER TABLE core.invoices ADD COLUMN total NUMERIC(10, 2);
COMMIT;

-- Runs on its own: the table the transaction would have made does not exist.
CREATE TABLE core.invoices (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES core.customers (id)
);

BEGIN;
-- The first statement fails: nothing ran, nothing after it runs.
ALTER TABLE core.customers ADD COLUMN email TEXT;
CREATE TABLE core.after_failure (id INTEGER);
COMMIT;
