-- A combined batch: runs last (letters sort after digits).
BEGIN;
ALTER TABLE core.bookings ADD COLUMN IF NOT EXISTS travel_fee_cents INTEGER;
ALTER TABLE core.bookings ADD COLUMN IF NOT EXISTS special_requests TEXT;
ALTER TYPE ai.model_kind ADD VALUE IF NOT EXISTS 'vision' BEFORE 'embedding';
COMMIT;
