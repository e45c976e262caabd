-- Arrays in every spelling.
CREATE TABLE core.arrays (
    a text[],
    b integer[],
    c int[][],
    d varchar(50)[],
    e int ARRAY,
    f text ARRAY[3],
    g jsonb[],
    h uuid[] NOT NULL DEFAULT '{}',
    i timestamptz[],
    j double precision[],
    k character varying(20)[] DEFAULT ARRAY[]::varchar[],
    l bigint[3]
);
