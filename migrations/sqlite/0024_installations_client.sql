-- A client's installations by name: its page and its reports read them, not the whole fleet.
CREATE INDEX installations_client ON installations (client);
