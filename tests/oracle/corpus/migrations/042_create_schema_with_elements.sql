-- CREATE SCHEMA with schema elements.
CREATE SCHEMA crm
    CREATE TABLE contacts (
        id INT PRIMARY KEY,
        email TEXT NOT NULL,
        source VARCHAR(30)
    )
    CREATE VIEW contact_emails AS SELECT email FROM contacts
    CREATE TABLE deals (id INT PRIMARY KEY, contact_id INT REFERENCES contacts (id), amount NUMERIC(12, 2));
