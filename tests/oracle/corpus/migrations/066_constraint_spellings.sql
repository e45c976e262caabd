-- Named column constraints, NULL, and constraints in every order.
CREATE TABLE core.reviews (
    id INT CONSTRAINT reviews_pk PRIMARY KEY,
    booking_id BIGINT CONSTRAINT reviews_booking_nn NOT NULL CONSTRAINT reviews_booking_fk REFERENCES core.bookings (id),
    rating SMALLINT CHECK (rating BETWEEN 1 AND 5) NOT NULL,
    body TEXT NULL,
    title VARCHAR(200) DEFAULT 'untitled'::character varying NOT NULL,
    posted_at TIMESTAMP DEFAULT timezone('utc', now()) NOT NULL,
    source TEXT DEFAULT $$web$$,
    weight NUMERIC DEFAULT (1.0) NOT NULL,
    flags INT NOT NULL DEFAULT 0 CHECK (flags >= 0) NO INHERIT,
    UNIQUE (booking_id)
);
ALTER TABLE core.reviews DROP CONSTRAINT reviews_pk;
ALTER TABLE core.reviews ALTER COLUMN id DROP NOT NULL;
