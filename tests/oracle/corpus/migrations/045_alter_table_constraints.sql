-- ADD PRIMARY KEY makes its columns NOT NULL; other constraints change no column.
CREATE TABLE ops.chef_assignments (
    booking_id BIGINT,
    chef_id INT,
    assigned_at TIMESTAMPTZ,
    role TEXT
);
ALTER TABLE ops.chef_assignments ADD CONSTRAINT chef_assignments_pkey PRIMARY KEY (booking_id, chef_id);
ALTER TABLE ops.chef_assignments
    ADD CONSTRAINT chef_assignments_booking_fk FOREIGN KEY (booking_id) REFERENCES core.bookings (id),
    ADD CONSTRAINT chef_assignments_chef_fk FOREIGN KEY (chef_id) REFERENCES ops.chefs (id),
    ADD UNIQUE (booking_id, role),
    ADD CHECK (role <> '');
CREATE TABLE ops.chef_locations (chef_id INT, lat DOUBLE PRECISION, lng DOUBLE PRECISION);
ALTER TABLE ops.chef_locations ADD PRIMARY KEY (chef_id);
ALTER TABLE ops.chef_assignments DROP CONSTRAINT chef_assignments_booking_fk;
ALTER TABLE ops.chef_assignments DROP CONSTRAINT IF EXISTS nothing_by_this_name;
