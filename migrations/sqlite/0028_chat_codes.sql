-- One-time codes the bot gives a group (when it is added, and on /start or /help there): an
-- administrator types one in any field that asks for a chat instead of looking up the
-- chat's id. Kept by digest; a code works once, for a day.
CREATE TABLE chat_codes (
    code_hash TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The people the bot has heard in a group (a command, a button pressed, adding the bot):
-- listed beside the chat with whether each pressed Start in a private chat with the bot,
-- which is what lets the bot write to them directly.
CREATE TABLE bot_chat_people (
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
