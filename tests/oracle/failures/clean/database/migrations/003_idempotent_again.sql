-- Applies cleanly, and applies again (003 is the same file).
BEGIN;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'shop' AND table_name = 'orders' AND column_name = 'note'
    ) THEN
        ALTER TABLE shop.orders ADD COLUMN note TEXT;
    END IF;
END $$;
DO $$
BEGIN
    ALTER TABLE shop.orders ADD COLUMN placed_at TIMESTAMPTZ;
EXCEPTION WHEN duplicate_column THEN NULL;
END $$;
ALTER TABLE shop.orders ADD COLUMN IF NOT EXISTS total NUMERIC(10, 2);
ALTER TABLE shop.orders DROP COLUMN IF EXISTS obsolete;
ALTER TABLE IF EXISTS shop.archive ADD COLUMN note TEXT;
COMMENT ON COLUMN shop.orders.note IS 'free text';
CREATE INDEX IF NOT EXISTS idx_orders_note ON shop.orders (note);
CREATE INDEX IF NOT EXISTS idx_orders_lower_note ON shop.orders (lower(note));
CREATE TABLE IF NOT EXISTS shop.order_lines (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES shop.orders (id),
    customer_id BIGINT REFERENCES shop.customers
);
ALTER TYPE shop.status ADD VALUE IF NOT EXISTS 'shipped';
COMMIT;
ALTER TABLE shop.orders ALTER COLUMN note SET DEFAULT '';
ALTER TABLE shop.orders ALTER COLUMN total TYPE NUMERIC(12, 2);
