ALTER TYPE core.booking_status RENAME VALUE 'cancelled' TO 'canceled';
