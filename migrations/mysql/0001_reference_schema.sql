-- The reference schema for MariaDB and MySQL (InnoDB, utf8mb4). Same tables
-- and columns as migrations/postgres; foreign keys are spelled out as table
-- constraints because MySQL ignores inline REFERENCES clauses.
CREATE TABLE users (
    id               VARCHAR(255) NOT NULL PRIMARY KEY,
    createdtimestamp BIGINT,
    email            VARCHAR(255),
    email_verified   BOOLEAN NOT NULL DEFAULT FALSE,
    firstname        VARCHAR(255),
    lastname         VARCHAR(255),
    password_hash    VARCHAR(255),
    username         VARCHAR(255)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE realm_roles (
    id   VARCHAR(255) NOT NULL PRIMARY KEY,
    role VARCHAR(255)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE users_to_realm_roles (
    user_id       VARCHAR(255) NOT NULL,
    realm_role_id VARCHAR(255) NOT NULL,
    PRIMARY KEY (user_id, realm_role_id),
    FOREIGN KEY (user_id) REFERENCES users (id),
    FOREIGN KEY (realm_role_id) REFERENCES realm_roles (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE client_roles (
    id     VARCHAR(255) NOT NULL PRIMARY KEY,
    client VARCHAR(255),
    role   VARCHAR(255)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE users_to_client_roles (
    user_id        VARCHAR(255) NOT NULL,
    client_role_id VARCHAR(255) NOT NULL,
    PRIMARY KEY (user_id, client_role_id),
    FOREIGN KEY (user_id) REFERENCES users (id),
    FOREIGN KEY (client_role_id) REFERENCES client_roles (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Indexes for the gateway's default queries (docs/queries.md), so that every
-- lookup, prefix search and page is an index scan however many users there
-- are. The default collation of utf8mb4 ignores case (utf8mb4_general_ci
-- on MariaDB, utf8mb4_0900_ai_ci on MySQL 8), so the defaults compare the
-- columns themselves (username = :username, username LIKE 'max%') and plain
-- indexes serve them. (username, id) also gives pages their order.
CREATE INDEX users_username_id ON users (username, id);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_firstname ON users (firstname);
CREATE INDEX users_lastname ON users (lastname);
