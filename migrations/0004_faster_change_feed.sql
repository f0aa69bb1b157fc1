-- A cheaper change feed (replaces resellerd_notify_rows of 0003). Same
-- channel and payloads, which lib/service.c parses:
--   "<kind>:<id>,<id>,..."  kinds s (subscription number), a (account id),
--                            c (contact id), o (Salesforce opportunity id),
--                            at most 200 ids per notification;
--   "*"                      anything may have changed.
-- What changed: one function per table that reads its key column straight
-- from the transition table (0003 built a jsonb of every row to find the
-- column), no window function or GROUP BY: the keys go into one array
-- that is cut into slices of 200. Keys that are unique per table (primary
-- keys) skip the DISTINCT. A slice whose payload would come near the
-- 8000-byte NOTIFY limit (only with absurdly long ids) becomes "*": the
-- statement never fails because of the feed, and a "*" is always correct.
--
-- Coarse mode, for full syncs only: a session that sets
--   SET resellerd.change_feed = 'coarse'
-- gets one "*" per statement instead of the id lists. lib/store_sync.c sets
-- it on the sessions of a full sync (resellerctl sync --full), which
-- rewrites every cached row anyway, so every instance drops its whole
-- decision cache at each committed page; incremental syncs, webhooks and
-- read-through writes never set it and keep precise per-id
-- notifications. NOTIFY collapses identical payloads within a
-- transaction, so a page sends one "*".

CREATE FUNCTION resellerd_notify_ids(kind text, ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(ids), 0);
    i int := 1;
    payload text;
BEGIN
    WHILE i <= n LOOP
        payload := kind || ':' || array_to_string(ids[i:i + 199], ',');
        IF octet_length(payload) > 7900 THEN
            payload := '*';
        END IF;
        PERFORM pg_notify('resellerd_changes', payload);
        i := i + 200;
    END LOOP;
END $$;

CREATE FUNCTION resellerd_feed_coarse() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT current_setting('resellerd.change_feed', true) IS NOT DISTINCT FROM 'coarse'
$$;

-- Subscriptions: number is the primary key.
CREATE FUNCTION resellerd_notify_subscriptions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resellerd_feed_coarse() THEN
        PERFORM pg_notify('resellerd_changes', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resellerd_notify_ids('s', ARRAY(SELECT number FROM old_rows));
    ELSE
        PERFORM resellerd_notify_ids('s', ARRAY(SELECT number FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

-- Accounts and contacts: id is the primary key.
CREATE FUNCTION resellerd_notify_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resellerd_feed_coarse() THEN
        PERFORM pg_notify('resellerd_changes', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resellerd_notify_ids('a', ARRAY(SELECT id FROM old_rows));
    ELSE
        PERFORM resellerd_notify_ids('a', ARRAY(SELECT id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION resellerd_notify_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resellerd_feed_coarse() THEN
        PERFORM pg_notify('resellerd_changes', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resellerd_notify_ids('c', ARRAY(SELECT id FROM old_rows));
    ELSE
        PERFORM resellerd_notify_ids('c', ARRAY(SELECT id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

-- A quote matters to the subscription it names (several quotes may name
-- one subscription; the name may be missing).
CREATE FUNCTION resellerd_notify_quotes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resellerd_feed_coarse() THEN
        PERFORM pg_notify('resellerd_changes', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resellerd_notify_ids('s', ARRAY(SELECT DISTINCT subscription_number
            FROM old_rows WHERE subscription_number IS NOT NULL));
    ELSE
        PERFORM resellerd_notify_ids('s', ARRAY(SELECT DISTINCT subscription_number
            FROM new_rows WHERE subscription_number IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION resellerd_notify_opportunity_partners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resellerd_feed_coarse() THEN
        PERFORM pg_notify('resellerd_changes', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resellerd_notify_ids('o', ARRAY(SELECT DISTINCT opportunity_id
            FROM old_rows WHERE opportunity_id IS NOT NULL));
    ELSE
        PERFORM resellerd_notify_ids('o', ARRAY(SELECT DISTINCT opportunity_id
            FROM new_rows WHERE opportunity_id IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

-- The same triggers (names, events, transition tables), new functions.
DROP TRIGGER zuora_subscriptions_ins ON zuora_subscriptions;
DROP TRIGGER zuora_subscriptions_upd ON zuora_subscriptions;
DROP TRIGGER zuora_subscriptions_del ON zuora_subscriptions;
CREATE TRIGGER zuora_subscriptions_ins AFTER INSERT ON zuora_subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_subscriptions();
CREATE TRIGGER zuora_subscriptions_upd AFTER UPDATE ON zuora_subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_subscriptions();
CREATE TRIGGER zuora_subscriptions_del AFTER DELETE ON zuora_subscriptions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_subscriptions();

DROP TRIGGER zuora_accounts_ins ON zuora_accounts;
DROP TRIGGER zuora_accounts_upd ON zuora_accounts;
DROP TRIGGER zuora_accounts_del ON zuora_accounts;
CREATE TRIGGER zuora_accounts_ins AFTER INSERT ON zuora_accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_accounts();
CREATE TRIGGER zuora_accounts_upd AFTER UPDATE ON zuora_accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_accounts();
CREATE TRIGGER zuora_accounts_del AFTER DELETE ON zuora_accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_accounts();

DROP TRIGGER zuora_contacts_ins ON zuora_contacts;
DROP TRIGGER zuora_contacts_upd ON zuora_contacts;
DROP TRIGGER zuora_contacts_del ON zuora_contacts;
CREATE TRIGGER zuora_contacts_ins AFTER INSERT ON zuora_contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_contacts();
CREATE TRIGGER zuora_contacts_upd AFTER UPDATE ON zuora_contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_contacts();
CREATE TRIGGER zuora_contacts_del AFTER DELETE ON zuora_contacts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_contacts();

DROP TRIGGER sf_quotes_ins ON sf_quotes;
DROP TRIGGER sf_quotes_upd ON sf_quotes;
DROP TRIGGER sf_quotes_del ON sf_quotes;
CREATE TRIGGER sf_quotes_ins AFTER INSERT ON sf_quotes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_quotes();
CREATE TRIGGER sf_quotes_upd AFTER UPDATE ON sf_quotes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_quotes();
CREATE TRIGGER sf_quotes_del AFTER DELETE ON sf_quotes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_quotes();

DROP TRIGGER sf_opportunity_partners_ins ON sf_opportunity_partners;
DROP TRIGGER sf_opportunity_partners_upd ON sf_opportunity_partners;
DROP TRIGGER sf_opportunity_partners_del ON sf_opportunity_partners;
CREATE TRIGGER sf_opportunity_partners_ins AFTER INSERT ON sf_opportunity_partners
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_opportunity_partners();
CREATE TRIGGER sf_opportunity_partners_upd AFTER UPDATE ON sf_opportunity_partners
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_opportunity_partners();
CREATE TRIGGER sf_opportunity_partners_del AFTER DELETE ON sf_opportunity_partners
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_opportunity_partners();

DROP FUNCTION resellerd_notify_rows();
