-- A rename, then guards that see the new name.
ALTER TABLE core.bookings RENAME COLUMN venue_lat TO venue_latitude;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'bookings' AND column_name = 'venue_lat'
    ) THEN
        ALTER TABLE core.bookings ADD COLUMN venue_lat_note TEXT;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = 'bookings' AND column_name = 'venue_latitude'
    ) THEN
        ALTER TABLE core.bookings ADD COLUMN venue_latitude_again DOUBLE PRECISION;
    END IF;
END $$;
