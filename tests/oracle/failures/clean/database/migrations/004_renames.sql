CREATE TABLE IF NOT EXISTS shop.refunds (id INTEGER, amount INTEGER);
ALTER TABLE shop.refunds RENAME COLUMN amount TO amount_cents;
ALTER TABLE shop.refunds DROP COLUMN IF EXISTS amount;
ALTER TABLE shop.refunds ADD COLUMN IF NOT EXISTS amount INTEGER;
ALTER TABLE shop.refunds ALTER COLUMN amount_cents SET NOT NULL;
DROP TABLE shop.refunds;
CREATE TABLE shop.refunds (id INTEGER PRIMARY KEY);
