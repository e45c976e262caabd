-- Types that come and go; a DROP TYPE ... CASCADE takes its columns with it.
CREATE TYPE ops.temp_kind AS ENUM ('a');
DROP TYPE ops.temp_kind;
DROP TYPE IF EXISTS ops.never_was;
CREATE TYPE ops.flag AS ENUM ('on', 'off');
CREATE TABLE ops.flags (id INT PRIMARY KEY, value ops.flag, previous ops.flag[], note TEXT);
DROP TYPE ops.flag CASCADE;
