-- ALTER TABLE on a parent reaches the tables that inherit from it and its partitions.
ALTER TABLE ops.metrics ADD COLUMN unit TEXT;
ALTER TABLE ops.metrics ADD COLUMN source TEXT NOT NULL DEFAULT 'agent';
ALTER TABLE ops.metrics RENAME COLUMN value TO reading;
ALTER TABLE ops.metrics ALTER COLUMN reading TYPE NUMERIC(12, 3);
ALTER TABLE ops.metrics ALTER COLUMN unit SET NOT NULL;

ALTER TABLE ops.events ADD COLUMN severity SMALLINT;
ALTER TABLE ops.events ALTER COLUMN payload SET NOT NULL;
-- login_events declared happened_at itself: it keeps it (and so does its child).
ALTER TABLE ops.events DROP COLUMN happened_at;
ALTER TABLE ops.events RENAME TO event_log;
ALTER TABLE ops.event_log ADD COLUMN source_ip INET;
-- tag reached tagged_login_events only through ops.tagged: it goes.
ALTER TABLE ops.tagged DROP COLUMN tag;
ALTER TABLE ops.tagged ADD COLUMN label TEXT;
