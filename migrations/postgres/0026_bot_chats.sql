-- Chats the bot has heard a command in: where an administrator can point installations and
-- contacts without looking an id up elsewhere.
CREATE TABLE bot_chats (
    chat_id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
