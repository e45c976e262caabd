-- Character types, with and without lengths.
CREATE TABLE core.texts (
    a varchar(20),
    b character varying,
    c character varying(100),
    d char(3),
    e character(10),
    f text,
    g char,
    h bpchar,
    i national character varying(10),
    j varchar,
    k VARCHAR(64) NOT NULL DEFAULT 'n/a',
    l TEXT COLLATE "C",
    m char varying(5)
);
