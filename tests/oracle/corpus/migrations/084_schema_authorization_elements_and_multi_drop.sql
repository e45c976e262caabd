-- Schema elements after AUTHORIZATION; several schemas dropped at once.
CREATE SCHEMA reports AUTHORIZATION postgres
    CREATE TABLE runs (id INT PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL)
    CREATE TABLE outputs (run_id INT REFERENCES runs (id), path TEXT);
CREATE SCHEMA tmp_one;
CREATE SCHEMA tmp_two;
CREATE TABLE tmp_one.a (x INT);
CREATE TABLE tmp_two.b (y INT);
DROP SCHEMA IF EXISTS tmp_one, tmp_two CASCADE;
