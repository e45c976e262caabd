-- Transaction control around DDL.
START TRANSACTION;
CREATE TABLE ops.slot_configurations (
    id SERIAL PRIMARY KEY,
    slot_start TIME NOT NULL,
    slot_minutes INTEGER NOT NULL DEFAULT 90
);
SAVEPOINT before_extra;
ALTER TABLE ops.slot_configurations ADD COLUMN max_bookings INTEGER DEFAULT 4;
RELEASE SAVEPOINT before_extra;
END;
BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;
ALTER TABLE ops.slot_configurations ADD COLUMN region TEXT;
COMMIT;
