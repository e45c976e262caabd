-- A block's statements all run when it succeeds; its handler's do not.
DO $$
BEGIN
    BEGIN
        ALTER TABLE ops.chefs ADD COLUMN specialty TEXT;
        ALTER TABLE ops.chefs ADD COLUMN years_experience SMALLINT;
    EXCEPTION
        WHEN duplicate_column THEN
            ALTER TABLE ops.chefs ADD COLUMN handler_ran BOOLEAN;
    END;
    BEGIN
        CREATE TABLE ops.chef_badges (chef_id INT NOT NULL, badge TEXT NOT NULL);
    EXCEPTION
        WHEN duplicate_table THEN NULL;
        WHEN OTHERS THEN RAISE;
    END;
END $$;
