-- Weekly schedules.
CREATE TABLE ops.chef_availability (
    id SERIAL PRIMARY KEY,
    chef_id INTEGER NOT NULL REFERENCES ops.chefs (id) ON DELETE CASCADE,
    day_of_week SMALLINT NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time TIME NOT NULL,
    end_time TIME NOT NULL,
    CONSTRAINT chef_availability_window CHECK (end_time > start_time)
);

CREATE TABLE ops.chef_timeoff (
    chef_id INTEGER NOT NULL REFERENCES ops.chefs (id),
    during TSTZRANGE NOT NULL,
    reason TEXT,
    EXCLUDE USING gist (during WITH &&)
);
