-- A schema with a table and a type, dropped whole.
CREATE SCHEMA scratch;
CREATE TABLE scratch.a (x int);
CREATE TYPE scratch.mood AS ENUM ('ok', 'meh');
DROP SCHEMA scratch CASCADE;
CREATE SCHEMA empty_for_now;
DROP SCHEMA IF EXISTS empty_for_now;
