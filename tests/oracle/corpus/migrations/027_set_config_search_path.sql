-- set_config('search_path', ...) moves the path too.
SELECT set_config('search_path', 'ai, public', false);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations (id),
    role VARCHAR(16) NOT NULL,
    content TEXT NOT NULL,
    tokens INTEGER
);
