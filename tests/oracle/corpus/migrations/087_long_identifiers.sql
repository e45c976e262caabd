-- Identifiers longer than 63 bytes are truncated (PostgreSQL says so in a NOTICE).
CREATE TABLE ops.a_table_name_that_is_much_longer_than_postgresql_allows_for_names_x (
    a_column_name_that_is_much_longer_than_postgresql_allows_for_names_y INT,
    "a quoted column name that is much longer than postgresql allows, too" TEXT
);
ALTER TABLE ops.a_table_name_that_is_much_longer_than_postgresql_allows_for_names_zz
    ADD COLUMN short_one INT;
ALTER TABLE ops.a_table_name_that_is_much_longer_than_postgresql_allows_for_names_x
    ADD COLUMN another_column_name_that_is_much_longer_than_postgresql_allows_q BOOLEAN;
