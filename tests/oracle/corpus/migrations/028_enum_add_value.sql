-- ADD VALUE, BEFORE/AFTER, IF NOT EXISTS; inside a transaction (fine on PostgreSQL 12+
-- while the new values are not used in it).
BEGIN;
ALTER TYPE core.booking_status ADD VALUE 'completed';
ALTER TYPE core.booking_status ADD VALUE 'deposit_paid' BEFORE 'confirmed';
ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'pending';
ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'no_show' AFTER 'cancelled';
COMMIT;
