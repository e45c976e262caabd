-- Unqualified names follow search_path.
SET search_path TO ops, public;

CREATE TYPE chef_level AS ENUM ('junior', 'senior', 'head');

CREATE TABLE chefs (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    level chef_level NOT NULL DEFAULT 'junior',
    hired_on DATE
);

ALTER TABLE chefs ADD COLUMN rating NUMERIC(3, 2);
