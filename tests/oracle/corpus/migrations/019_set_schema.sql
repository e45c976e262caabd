-- Moving a table to another schema.
CREATE SCHEMA archive;
ALTER TABLE core.customers_archive SET SCHEMA archive;
ALTER TABLE IF EXISTS core.no_such_table SET SCHEMA archive;
