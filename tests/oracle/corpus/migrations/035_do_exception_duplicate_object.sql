-- CREATE TYPE guarded by an exception handler, for a type that exists and one that does not.
DO $$
BEGIN
    CREATE TYPE core.booking_status AS ENUM ('x', 'y');
EXCEPTION
    WHEN duplicate_object THEN
        RAISE NOTICE 'booking_status exists';
END $$;

DO $$
BEGIN
    CREATE TYPE ai.model_kind AS ENUM ('chat', 'embedding', 'rerank');
EXCEPTION
    WHEN duplicate_object THEN NULL;
END $$;

DO LANGUAGE plpgsql $$
BEGIN
    BEGIN
        ALTER TABLE ai.conversations ADD COLUMN model ai.model_kind;
    EXCEPTION WHEN duplicate_column THEN
        NULL;
    END;
END $$;
