-- psql meta-commands end at the end of their line; the statements around them still run.
\set ON_ERROR_STOP on
\echo 'Creating ops.travel_zones'
CREATE TABLE ops.travel_zones (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    radius_miles NUMERIC(6, 2)
);
\echo 'Adding ops.travel_zones.fee_cents'
ALTER TABLE ops.travel_zones ADD COLUMN fee_cents INTEGER;
\timing off
ALTER TABLE ops.travel_zones ADD COLUMN is_active BOOLEAN DEFAULT true;
