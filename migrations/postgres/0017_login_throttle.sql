-- Failed logins per account and client address, shared by every node: each address waits
-- longer after each of its failures, and failures from addresses the account never
-- logged in from slow other strangers, never the owner (`staff/throttle.rs`). Replaces
-- the lockout per account, which anyone could trigger.

DROP TABLE login_failures;

CREATE TABLE login_failures (
    account  TEXT NOT NULL,
    address  TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (account, address)
);

-- Where each account logged in from, and when last.
CREATE TABLE login_addresses (
    account    TEXT NOT NULL,
    address    TEXT NOT NULL,
    last_ok_at BIGINT NOT NULL,
    PRIMARY KEY (account, address)
);
