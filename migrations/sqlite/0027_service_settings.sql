-- Choices the service makes once for itself, by name: the language chosen on the setup page,
-- which chats read until they or the configuration say otherwise.
CREATE TABLE service_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
