-- Optional: the change log behind the gateway's change feed (/v1/changes).
--
-- Triggers record which users changed (their row, their role links) and when
-- the role catalogue changed, so that Keycloak can evict exactly those users
-- from its cache. These are the database's own writes; the gateway opens the
-- file read-only and polls the log every changes.poll_interval_ms (1 s by
-- default). SQLite has one writer at a time, so entry numbers follow commit
-- order by themselves.
--
-- Install:  sqlite3 users.db < 0002_change_log.sql
-- Then set  [changes] enabled = true   in the gateway's configuration.
--
-- Retention: schedule a statement such as
--   DELETE FROM userstore_change_log
--    WHERE changed_at < (CAST(strftime('%s', 'now') AS INTEGER) - 7 * 86400) * 1000;
-- A trigger remembers the newest purged entry; a Keycloak node whose cursor
-- is older than that is told to resync (it evicts all its cached users).

CREATE TABLE userstore_change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT,                      -- NULL: the role catalogue changed
    changed_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000)
);
CREATE INDEX userstore_change_log_changed_at ON userstore_change_log (changed_at);

CREATE TABLE userstore_change_log_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    purged_through INTEGER NOT NULL DEFAULT 0
);
INSERT INTO userstore_change_log_state (id) VALUES (1);

CREATE TRIGGER userstore_users_ins AFTER INSERT ON users
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NEW.id); END;
CREATE TRIGGER userstore_users_upd AFTER UPDATE ON users
BEGIN
    INSERT INTO userstore_change_log (user_id) VALUES (OLD.id);
    INSERT INTO userstore_change_log (user_id) SELECT NEW.id WHERE NEW.id IS NOT OLD.id;
END;
CREATE TRIGGER userstore_users_del AFTER DELETE ON users
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (OLD.id); END;

CREATE TRIGGER userstore_realm_links_ins AFTER INSERT ON users_to_realm_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER userstore_realm_links_upd AFTER UPDATE ON users_to_realm_roles
BEGIN
    INSERT INTO userstore_change_log (user_id) VALUES (OLD.user_id);
    INSERT INTO userstore_change_log (user_id) SELECT NEW.user_id WHERE NEW.user_id IS NOT OLD.user_id;
END;
CREATE TRIGGER userstore_realm_links_del AFTER DELETE ON users_to_realm_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER userstore_client_links_ins AFTER INSERT ON users_to_client_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER userstore_client_links_upd AFTER UPDATE ON users_to_client_roles
BEGIN
    INSERT INTO userstore_change_log (user_id) VALUES (OLD.user_id);
    INSERT INTO userstore_change_log (user_id) SELECT NEW.user_id WHERE NEW.user_id IS NOT OLD.user_id;
END;
CREATE TRIGGER userstore_client_links_del AFTER DELETE ON users_to_client_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER userstore_realm_roles_ins AFTER INSERT ON realm_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;
CREATE TRIGGER userstore_realm_roles_upd AFTER UPDATE ON realm_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;
CREATE TRIGGER userstore_realm_roles_del AFTER DELETE ON realm_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;
CREATE TRIGGER userstore_client_roles_ins AFTER INSERT ON client_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;
CREATE TRIGGER userstore_client_roles_upd AFTER UPDATE ON client_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;
CREATE TRIGGER userstore_client_roles_del AFTER DELETE ON client_roles
BEGIN INSERT INTO userstore_change_log (user_id) VALUES (NULL); END;

CREATE TRIGGER userstore_change_log_purged AFTER DELETE ON userstore_change_log
BEGIN
    UPDATE userstore_change_log_state SET purged_through = max(purged_through, OLD.seq) WHERE id = 1;
END;
