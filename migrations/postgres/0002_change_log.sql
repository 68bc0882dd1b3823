-- Optional: the change log behind the gateway's change feed (/v1/changes).
--
-- Triggers record which users changed (their row, their role links) and when
-- the role catalogue changed, so that Keycloak can evict exactly those users
-- from its cache. These are the database's own writes, installed by the DBA;
-- the gateway only reads the log (SELECT on userstore_change_log and
-- userstore_change_log_state) and LISTENs on the channel 'userstore_changes'.
-- Needs PostgreSQL 13 or newer (pg_current_xact_id).
--
-- Install:   psql -d userdb -v ON_ERROR_STOP=1 -f 0002_change_log.sql
-- Then set   [changes] enabled = true   in the gateway's configuration.
--
-- Ordering: every entry carries the id of the transaction that wrote it, and
-- the gateway only reads entries of transactions older than the oldest one
-- still running (pg_snapshot_xmin), so an entry can never become visible
-- behind a cursor that was already handed out, whatever order concurrent
-- transactions commit in. Writers are not serialised.
--
-- Retention: schedule (cron, pg_cron) a statement such as
--   DELETE FROM userstore_change_log WHERE changed_at < now() - interval '7 days';
-- A trigger remembers the newest purged entry; a Keycloak node whose cursor
-- is older than that (it was away longer than the retention) is told to
-- resync, which evicts all of that component's cached users.

CREATE TABLE userstore_change_log (
    txid       bigint       NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    user_id    varchar(255),              -- NULL: the role catalogue changed
    changed_at timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX userstore_change_log_txid ON userstore_change_log (txid);
CREATE INDEX userstore_change_log_changed_at ON userstore_change_log (changed_at);

-- One row: the newest transaction id whose entries were purged.
CREATE TABLE userstore_change_log_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    purged_through bigint  NOT NULL DEFAULT 0
);
INSERT INTO userstore_change_log_state DEFAULT VALUES;

-- Row trigger: logs the user id held in the column named by the trigger's
-- argument, before and after the change (both when an UPDATE moves a link
-- from one user to another). Without an argument it logs a NULL user id.
CREATE FUNCTION userstore_change_log_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_id text;
    new_id text;
BEGIN
    IF TG_NARGS = 0 THEN
        INSERT INTO userstore_change_log (user_id) VALUES (NULL);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_id := to_jsonb(OLD) ->> TG_ARGV[0];
        INSERT INTO userstore_change_log (user_id) VALUES (old_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_id := to_jsonb(NEW) ->> TG_ARGV[0];
        IF TG_OP = 'INSERT' OR new_id IS DISTINCT FROM old_id THEN
            INSERT INTO userstore_change_log (user_id) VALUES (new_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Statement trigger: wakes the gateway at commit (PostgreSQL folds identical
-- notifications of one transaction into one).
CREATE FUNCTION userstore_change_log_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('userstore_changes', '');
    RETURN NULL;
END $$;

CREATE FUNCTION userstore_change_log_purged() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE userstore_change_log_state
       SET purged_through = GREATEST(purged_through, (SELECT max(txid) FROM purged));
    RETURN NULL;
END $$;

CREATE TRIGGER userstore_change_log AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION userstore_change_log_row('id');
CREATE TRIGGER userstore_change_log AFTER INSERT OR UPDATE OR DELETE ON users_to_realm_roles
    FOR EACH ROW EXECUTE FUNCTION userstore_change_log_row('user_id');
CREATE TRIGGER userstore_change_log AFTER INSERT OR UPDATE OR DELETE ON users_to_client_roles
    FOR EACH ROW EXECUTE FUNCTION userstore_change_log_row('user_id');
CREATE TRIGGER userstore_change_log AFTER INSERT OR UPDATE OR DELETE ON realm_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_row();
CREATE TRIGGER userstore_change_log AFTER INSERT OR UPDATE OR DELETE ON client_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_row();

CREATE TRIGGER userstore_change_log_notify AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_notify();
CREATE TRIGGER userstore_change_log_notify AFTER INSERT OR UPDATE OR DELETE ON users_to_realm_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_notify();
CREATE TRIGGER userstore_change_log_notify AFTER INSERT OR UPDATE OR DELETE ON users_to_client_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_notify();
CREATE TRIGGER userstore_change_log_notify AFTER INSERT OR UPDATE OR DELETE ON realm_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_notify();
CREATE TRIGGER userstore_change_log_notify AFTER INSERT OR UPDATE OR DELETE ON client_roles
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_notify();

CREATE TRIGGER userstore_change_log_purged AFTER DELETE ON userstore_change_log
    REFERENCING OLD TABLE AS purged
    FOR EACH STATEMENT EXECUTE FUNCTION userstore_change_log_purged();
