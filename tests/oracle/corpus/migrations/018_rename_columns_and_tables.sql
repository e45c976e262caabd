-- RENAME COLUMN, RENAME without COLUMN, RENAME TO.
ALTER TABLE core.numbers RENAME COLUMN a TO amount;
ALTER TABLE core.numbers RENAME b TO balance;
ALTER TABLE core.texts RENAME TO text_samples;
ALTER TABLE IF EXISTS core.text_samples RENAME COLUMN f TO body;
