-- The reference schema: one identity per row, realm roles and client roles in
-- their own tables, linked many-to-many. A database made for the example JPA
-- provider this product replaces has exactly these tables.
CREATE TABLE users (
    id               varchar(255) PRIMARY KEY,
    createdtimestamp bigint,
    email            varchar(255),
    email_verified   boolean NOT NULL DEFAULT false,
    firstname        varchar(255),
    lastname         varchar(255),
    password_hash    varchar(255),
    username         varchar(255)
);

CREATE TABLE realm_roles (
    id   varchar(255) PRIMARY KEY,
    role varchar(255)
);

CREATE TABLE users_to_realm_roles (
    user_id       varchar(255) NOT NULL REFERENCES users (id),
    realm_role_id varchar(255) NOT NULL REFERENCES realm_roles (id),
    PRIMARY KEY (user_id, realm_role_id)
);

CREATE TABLE client_roles (
    id     varchar(255) PRIMARY KEY,
    client varchar(255),
    role   varchar(255)
);

CREATE TABLE users_to_client_roles (
    user_id        varchar(255) NOT NULL REFERENCES users (id),
    client_role_id varchar(255) NOT NULL REFERENCES client_roles (id),
    PRIMARY KEY (user_id, client_role_id)
);

-- Indexes for the gateway's default queries (docs/queries.md), so that every
-- lookup, prefix search and page is an index scan however many users there
-- are. Case-insensitive lookups (lower(username) = lower(:username)) and
-- prefix searches (lower(username) LIKE 'max%') use the lower() expression
-- indexes; text_pattern_ops lets LIKE use them in any locale (the default
-- operator class only does so in the C locale). Pages are read in
-- (username, id) order. Infix searches (*ster*) need trigram indexes:
-- 0003_trigram_search.sql (optional).
CREATE INDEX users_username_lower ON users (lower(username) text_pattern_ops);
CREATE INDEX users_email_lower ON users (lower(email) text_pattern_ops);
CREATE INDEX users_firstname_lower ON users (lower(firstname) text_pattern_ops);
CREATE INDEX users_lastname_lower ON users (lower(lastname) text_pattern_ops);
CREATE INDEX users_username_id ON users (username, id);
