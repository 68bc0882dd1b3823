-- The gateway's own database account for docker-compose: it may read the
-- five tables of the reference schema and the two of the change log, and
-- nothing else, and its sessions default to read-only as well (see docs/dba.md).
CREATE ROLE userstore_gateway LOGIN PASSWORD 'gateway-password' CONNECTION LIMIT 20;
ALTER ROLE userstore_gateway SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO userstore_gateway;
GRANT SELECT ON users, realm_roles, users_to_realm_roles,
                client_roles, users_to_client_roles,
                userstore_change_log, userstore_change_log_state TO userstore_gateway;
