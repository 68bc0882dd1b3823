-- Optional: the change log behind the gateway's change feed (/v1/changes),
-- for MariaDB 10.3+ and MySQL 8.
--
-- Triggers record which users changed (their row, their role links) and when
-- the role catalogue changed, so that Keycloak can evict exactly those users
-- from its cache. These are the database's own writes, installed by the DBA;
-- the gateway only reads the two userstore_change_log tables (SELECT).
-- The gateway polls userstore_change_log_state (one row, primary key) every
-- changes.poll_interval_ms (1 s by default).
--
-- Install with the command-line client, which understands DELIMITER:
--   mariadb userdb < 0002_change_log.sql
-- (with binary logging on, creating the procedure needs SUPER or
-- log_bin_trust_function_creators = 1). Then set [changes] enabled = true.
--
-- Ordering: each entry takes its number from the counter row in
-- userstore_change_log_state, whose row lock is held until the writing
-- transaction commits. Numbers are therefore handed out in commit order and
-- a reader can never see number 12 while 11 is still to come. The price:
-- transactions that change users or roles wait for each other at this one
-- row (an import in one long transaction blocks other user changes until it
-- commits). Keep such transactions short.
--
-- Retention: schedule (cron, an EVENT) a statement such as
--   DELETE FROM userstore_change_log WHERE changed_at < NOW() - INTERVAL 7 DAY;
-- A trigger remembers the newest purged entry; a Keycloak node whose cursor
-- is older than that is told to resync (it evicts all its cached users).

CREATE TABLE userstore_change_log (
    seq        BIGINT       NOT NULL PRIMARY KEY,
    user_id    VARCHAR(255) NULL,          -- NULL: the role catalogue changed
    changed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY userstore_change_log_changed_at (changed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE userstore_change_log_state (
    id             TINYINT NOT NULL PRIMARY KEY,
    last_seq       BIGINT  NOT NULL DEFAULT 0,
    purged_through BIGINT  NOT NULL DEFAULT 0
) ENGINE = InnoDB;
INSERT INTO userstore_change_log_state (id) VALUES (1);

DELIMITER //

CREATE PROCEDURE userstore_log_change(IN changed_user VARCHAR(255))
BEGIN
    UPDATE userstore_change_log_state SET last_seq = last_seq + 1 WHERE id = 1;
    INSERT INTO userstore_change_log (seq, user_id)
        SELECT last_seq, changed_user FROM userstore_change_log_state WHERE id = 1;
END//

CREATE TRIGGER userstore_users_ins AFTER INSERT ON users FOR EACH ROW
    CALL userstore_log_change(NEW.id)//
CREATE TRIGGER userstore_users_upd AFTER UPDATE ON users FOR EACH ROW
BEGIN
    CALL userstore_log_change(OLD.id);
    IF NOT (NEW.id <=> OLD.id) THEN CALL userstore_log_change(NEW.id); END IF;
END//
CREATE TRIGGER userstore_users_del AFTER DELETE ON users FOR EACH ROW
    CALL userstore_log_change(OLD.id)//

CREATE TRIGGER userstore_realm_links_ins AFTER INSERT ON users_to_realm_roles FOR EACH ROW
    CALL userstore_log_change(NEW.user_id)//
CREATE TRIGGER userstore_realm_links_upd AFTER UPDATE ON users_to_realm_roles FOR EACH ROW
BEGIN
    CALL userstore_log_change(OLD.user_id);
    IF NOT (NEW.user_id <=> OLD.user_id) THEN CALL userstore_log_change(NEW.user_id); END IF;
END//
CREATE TRIGGER userstore_realm_links_del AFTER DELETE ON users_to_realm_roles FOR EACH ROW
    CALL userstore_log_change(OLD.user_id)//

CREATE TRIGGER userstore_client_links_ins AFTER INSERT ON users_to_client_roles FOR EACH ROW
    CALL userstore_log_change(NEW.user_id)//
CREATE TRIGGER userstore_client_links_upd AFTER UPDATE ON users_to_client_roles FOR EACH ROW
BEGIN
    CALL userstore_log_change(OLD.user_id);
    IF NOT (NEW.user_id <=> OLD.user_id) THEN CALL userstore_log_change(NEW.user_id); END IF;
END//
CREATE TRIGGER userstore_client_links_del AFTER DELETE ON users_to_client_roles FOR EACH ROW
    CALL userstore_log_change(OLD.user_id)//

CREATE TRIGGER userstore_realm_roles_ins AFTER INSERT ON realm_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//
CREATE TRIGGER userstore_realm_roles_upd AFTER UPDATE ON realm_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//
CREATE TRIGGER userstore_realm_roles_del AFTER DELETE ON realm_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//
CREATE TRIGGER userstore_client_roles_ins AFTER INSERT ON client_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//
CREATE TRIGGER userstore_client_roles_upd AFTER UPDATE ON client_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//
CREATE TRIGGER userstore_client_roles_del AFTER DELETE ON client_roles FOR EACH ROW
    CALL userstore_log_change(NULL)//

CREATE TRIGGER userstore_change_log_purged AFTER DELETE ON userstore_change_log FOR EACH ROW
    UPDATE userstore_change_log_state
       SET purged_through = GREATEST(purged_through, OLD.seq) WHERE id = 1//

DELIMITER ;
