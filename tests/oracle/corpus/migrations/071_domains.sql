-- Domains: information_schema.columns reports the type under the domain.
CREATE DOMAIN core.email_address AS TEXT CHECK (VALUE LIKE '%@%');
CREATE DOMAIN core.positive_cents INTEGER NOT NULL CHECK (VALUE > 0);
CREATE DOMAIN core.short_code AS VARCHAR(8);
CREATE TABLE core.invoices (
    id SERIAL PRIMARY KEY,
    billed_to core.email_address,
    amount core.positive_cents,
    code core.short_code,
    codes core.short_code[]
);
