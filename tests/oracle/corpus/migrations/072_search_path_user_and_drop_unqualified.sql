-- "$user" resolves to no schema here; unqualified DROP TABLE follows the path too.
SET search_path TO "$user", ops;
CREATE TABLE scratch_notes (id INT);
DROP TABLE scratch_notes;
CREATE TABLE kept_notes (id INT, note TEXT);
ALTER TABLE kept_notes ALTER COLUMN note SET NOT NULL;
