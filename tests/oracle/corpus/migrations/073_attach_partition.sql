-- A table attached as a partition later follows its parent's column changes.
CREATE TABLE ops.readings (sensor INT NOT NULL, at DATE NOT NULL, value REAL) PARTITION BY LIST (sensor);
CREATE TABLE ops.readings_1 (sensor INT NOT NULL, at DATE NOT NULL, value REAL);
ALTER TABLE ops.readings ATTACH PARTITION ops.readings_1 FOR VALUES IN (1);
ALTER TABLE ops.readings ADD COLUMN quality SMALLINT;
CREATE TABLE ops.readings_2 PARTITION OF ops.readings FOR VALUES IN (2);
ALTER TABLE ops.readings DETACH PARTITION ops.readings_2;
ALTER TABLE ops.readings ADD COLUMN unit TEXT;
