-- The reference schema for SQLite: same tables and columns as
-- migrations/postgres. SQLite keeps booleans as 0/1 integers.
CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    createdtimestamp INTEGER,
    email            TEXT,
    email_verified   BOOLEAN NOT NULL DEFAULT FALSE,
    firstname        TEXT,
    lastname         TEXT,
    password_hash    TEXT,
    username         TEXT
);

CREATE TABLE realm_roles (
    id   TEXT PRIMARY KEY NOT NULL,
    role TEXT
);

CREATE TABLE users_to_realm_roles (
    user_id       TEXT NOT NULL REFERENCES users (id),
    realm_role_id TEXT NOT NULL REFERENCES realm_roles (id),
    PRIMARY KEY (user_id, realm_role_id)
);

CREATE TABLE client_roles (
    id     TEXT PRIMARY KEY NOT NULL,
    client TEXT,
    role   TEXT
);

CREATE TABLE users_to_client_roles (
    user_id        TEXT NOT NULL REFERENCES users (id),
    client_role_id TEXT NOT NULL REFERENCES client_roles (id),
    PRIMARY KEY (user_id, client_role_id)
);
