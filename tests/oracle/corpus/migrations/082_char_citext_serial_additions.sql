-- The single-byte "char" type, an extension type, serial columns added later.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE ops.odd_types (
    flag "char",
    email citext,
    emails citext[],
    sized char(1),
    spaced_numeric numeric( 10 , 2 ),
    spaced_varchar character varying (255),
    spaced_ts timestamp (3) with time zone,
    bits bit,
    hm interval hour to minute
);
ALTER TABLE ops.odd_types ADD COLUMN id SERIAL, ADD COLUMN big_id BIGSERIAL;
ALTER TABLE ops.odd_types ADD COLUMN small_id smallserial;
