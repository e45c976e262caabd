-- ROLLBACK undoes the transaction's DDL; ROLLBACK TO SAVEPOINT what came after the savepoint.
BEGIN;
CREATE TABLE ops.dry_run (id INT);
ALTER TABLE ops.chefs ADD COLUMN dry_run_col INT;
ROLLBACK;

BEGIN;
CREATE TABLE ops.kept_table (id INT);
SAVEPOINT before_experiment;
ALTER TABLE ops.kept_table ADD COLUMN experiment INT;
SET LOCAL search_path TO ai;
ROLLBACK TO SAVEPOINT before_experiment;
ALTER TABLE ops.kept_table ADD COLUMN kept INT;
SAVEPOINT s2;
ALTER TABLE ops.kept_table ADD COLUMN also_kept INT;
RELEASE SAVEPOINT s2;
COMMIT;

CREATE TABLE after_rollbacks (id INT);
