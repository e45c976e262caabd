-- ALTER TABLE with an unqualified name finds the first schema on the path that has the table.
SET search_path = core, ops;
ALTER TABLE chefs ADD COLUMN bio TEXT;
ALTER TABLE customers ADD COLUMN vip BOOLEAN DEFAULT false;
