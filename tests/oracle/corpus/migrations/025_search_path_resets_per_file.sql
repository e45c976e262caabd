-- Each file starts over with the default search_path: this lands in public.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value JSONB,
    updated_at TIMESTAMPTZ
);
