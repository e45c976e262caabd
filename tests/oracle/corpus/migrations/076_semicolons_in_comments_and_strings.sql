-- Semicolons inside comments, strings and dollar quotes do not end statements.
ALTER TABLE core.kv -- a comment; with a semicolon
    ADD COLUMN note TEXT DEFAULT 'a;b';
ALTER TABLE core.kv /* block; comment */ ADD COLUMN tag TEXT DEFAULT $t$x;y$t$;
CREATE TABLE core.semi (
    id INT, -- ;
    body TEXT DEFAULT E'line;\n' /* ; */
);
