-- =====================================================
-- Migration: travel fee configurations
-- Created: 2025-11-26
-- =====================================================
BEGIN;
CREATE TABLE IF NOT EXISTS core.travel_fee_configurations (
    id SERIAL PRIMARY KEY,
    station_id INTEGER REFERENCES identity.stations (id),
    free_miles NUMERIC(6, 2) NOT NULL DEFAULT 30,
    per_mile_cents INTEGER NOT NULL DEFAULT 200,
    max_miles NUMERIC(6, 2),
    is_active BOOLEAN NOT NULL DEFAULT true,
    effective_from DATE NOT NULL DEFAULT CURRENT_DATE,
    effective_to DATE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE core.travel_fee_configurations IS 'Travel fee rules per station';
COMMIT;
