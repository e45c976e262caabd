-- A type renamed after a column uses it: the column follows.
CREATE TYPE ops.shift AS ENUM ('am', 'pm');
CREATE TABLE ops.shifts (id SERIAL PRIMARY KEY, kind ops.shift NOT NULL);
ALTER TYPE ops.shift RENAME TO shift_kind;
ALTER TYPE ops.shift_kind ADD VALUE 'night';
