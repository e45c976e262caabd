-- A table that comes and goes.
CREATE TABLE core.tmp_import (x int, y text);
INSERT INTO core.tmp_import VALUES (1, 'a');
DROP TABLE core.tmp_import;
DROP TABLE IF EXISTS core.never_there, core.also_never CASCADE;
CREATE TABLE core.tmp_a (x int);
CREATE TABLE core.tmp_b (y int);
DROP TABLE core.tmp_a, core.tmp_b;
