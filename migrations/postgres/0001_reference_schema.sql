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
