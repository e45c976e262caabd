-- An unqualified enum type found on the search path; a table renamed by its unqualified name.
SET search_path TO ops;
CREATE TABLE chef_levels_history (
    chef_id INT NOT NULL,
    level chef_level NOT NULL,
    changed_at TIMESTAMPTZ DEFAULT now()
);
ALTER TABLE chef_levels_history RENAME TO chef_level_changes;
ALTER TABLE chef_level_changes ADD COLUMN previous chef_level;
RESET search_path;
CREATE TABLE back_in_public (id INT);
