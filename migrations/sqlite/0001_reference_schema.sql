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

-- Indexes for the gateway's default queries (docs/queries.md), so that every
-- lookup, prefix search and page is an index search. SQLite's LIKE ignores
-- ASCII case and uses an index only on the bare column with the NOCASE
-- collation, which also serves the lookups (username = :username COLLATE
-- NOCASE). Pages are read in (username, id) order, in the column's own
-- (BINARY) collation.
CREATE INDEX users_username_nocase ON users (username COLLATE NOCASE);
CREATE INDEX users_email_nocase ON users (email COLLATE NOCASE);
CREATE INDEX users_firstname_nocase ON users (firstname COLLATE NOCASE);
CREATE INDEX users_lastname_nocase ON users (lastname COLLATE NOCASE);
CREATE INDEX users_username_id ON users (username, id);
