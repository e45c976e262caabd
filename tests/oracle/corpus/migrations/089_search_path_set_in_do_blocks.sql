-- A SET in a DO block lasts for the session; a local one ends with the block.
DO $$
BEGIN
    SET search_path TO ai, public;
END $$;
CREATE TABLE after_session_set_in_do (id INT);

DO $$
BEGIN
    PERFORM set_config('search_path', 'ops, public', true);
    CREATE TABLE inside_local_do (id INT);
END $$;
CREATE TABLE after_local_set_in_do (id INT);
