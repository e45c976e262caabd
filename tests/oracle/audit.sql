-- What the oracle reads back from PostgreSQL, as one JSON document: the handbook's Schema
-- Audit Query restricted to base tables (views, foreign tables, catalogues excluded), in
-- ordinal order, plus every enum type with its values in sort order.
SELECT json_build_object(
  'columns', (
    SELECT coalesce(json_agg(json_build_object(
             'table_schema', c.table_schema,
             'table_name', c.table_name,
             'column_name', c.column_name,
             'data_type', c.data_type,
             'is_nullable', c.is_nullable,
             'column_default', c.column_default)
           ORDER BY c.table_schema, c.table_name, c.ordinal_position), '[]'::json)
    FROM information_schema.columns c
    JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE t.table_type = 'BASE TABLE'
      AND c.table_schema NOT IN ('pg_catalog', 'information_schema')),
  'tables', (
    SELECT coalesce(json_agg(json_build_object(
             'table_schema', t.table_schema, 'table_name', t.table_name)), '[]'::json)
    FROM information_schema.tables t
    WHERE t.table_type = 'BASE TABLE'
      AND t.table_schema NOT IN ('pg_catalog', 'information_schema')),
  'enums', (
    SELECT coalesce(json_agg(json_build_object(
             'schema', n.nspname,
             'name', t.typname,
             'values', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]'::json)
                        FROM pg_enum e WHERE e.enumtypid = t.oid))
           ORDER BY n.nspname, t.typname), '[]'::json)
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'e'))
