-- ALTER TYPE … SET SCHEMA moves the type; a renamed type dropped with CASCADE takes its columns.
CREATE TYPE core.channel AS ENUM ('sms', 'email');
CREATE TABLE core.notifications (id INT, channel core.channel);
ALTER TYPE core.channel SET SCHEMA ops;
ALTER TYPE ops.channel ADD VALUE 'push';
DROP TYPE ops.shift_kind CASCADE;
