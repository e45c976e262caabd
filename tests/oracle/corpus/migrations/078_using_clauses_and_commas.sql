-- USING expressions and nested commas between ALTER TABLE actions.
CREATE TABLE ops.conversions (a INT, b TEXT, c DATE, d NUMERIC(10, 2));
ALTER TABLE ops.conversions
    ALTER COLUMN a TYPE TEXT USING a::text || ',' || 'x',
    ALTER COLUMN c TYPE TEXT USING to_char(c, 'YYYY-MM-DD'),
    ADD COLUMN e NUMERIC(12, 4) DEFAULT round(1.23456, 2),
    ALTER COLUMN d TYPE BIGINT USING CASE WHEN d > 0 THEN d::bigint ELSE 0 END,
    ADD COLUMN f INT CHECK (f IN (1, 2, 3)),
    ADD g TEXT;
