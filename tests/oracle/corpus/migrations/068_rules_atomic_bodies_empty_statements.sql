-- CREATE RULE with several commands, a SQL-standard function body, empty statements.
CREATE RULE kv_notify AS ON INSERT TO core.kv DO ALSO (NOTIFY kv_changed; NOTIFY kv_changed_again);
CREATE FUNCTION core.add_cents(a INT, b INT) RETURNS INT
    LANGUAGE sql
    IMMUTABLE
    BEGIN ATOMIC
        SELECT a + b;
    END;
;;
CREATE TABLE core.after_atomic (id INT, total INT DEFAULT core.add_cents(1, 2));
;
