-- Dates, times and intervals.
CREATE TABLE core.times (
    a date,
    b time,
    c timetz,
    d timestamp,
    e timestamptz,
    f timestamp(3) with time zone,
    g timestamp(0) without time zone,
    h time(2) with time zone,
    i time without time zone,
    j interval,
    k interval day to second,
    l interval(3),
    m timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    n TIMESTAMP WITHOUT TIME ZONE,
    o interval year to month,
    p time with time zone,
    q timestamp(6),
    r date DEFAULT CURRENT_DATE
);
