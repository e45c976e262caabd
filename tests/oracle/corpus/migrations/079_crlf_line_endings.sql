-- Windows line endings.
CREATE TABLE ops.crlf_table (
    id INT NOT NULL,
    note TEXT
);
ALTER TABLE ops.crlf_table
    ADD COLUMN created_at TIMESTAMPTZ;
