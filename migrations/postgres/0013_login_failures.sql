-- Failed logins per account, shared by every node: an account is throttled after five
-- failures in fifteen minutes wherever the attempts land behind the load balancer.

CREATE TABLE login_failures (
    account  TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    since    BIGINT NOT NULL
);
