-- Dropping a schema with CASCADE drops the columns elsewhere whose type lived in it.
CREATE SCHEMA lookup;
CREATE TYPE lookup.tier AS ENUM ('bronze', 'silver', 'gold');
CREATE TABLE core.loyalty (customer_id INT, tier lookup.tier, tiers lookup.tier[], points INT);
DROP SCHEMA lookup CASCADE;
