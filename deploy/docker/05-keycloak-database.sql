-- Keycloak's own database for docker-compose, beside the user database on
-- the same server. The gateway's account has no right in it, and Keycloak's
-- account none in userdb.
CREATE ROLE keycloak LOGIN PASSWORD 'keycloak-password';
CREATE DATABASE keycloak OWNER keycloak;
REVOKE ALL ON DATABASE userdb FROM PUBLIC;
GRANT CONNECT ON DATABASE userdb TO userstore_gateway;
