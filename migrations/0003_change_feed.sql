-- A change feed for the in-process decision caches of every instance:
-- after each statement that changes a record a decision depends on,
-- NOTIFY resellerd_changes with "<kind>:<id>,<id>,..." (kinds: s =
-- subscription number, a = account id, c = contact id, o = Salesforce
-- opportunity id) in chunks of 200 ids (a payload stays far below the
-- 8000-byte limit), or "*" when registry, policy or workflow data change.
-- Statement-level triggers with transition tables: a 2000-row sync page
-- sends ten notifications, not 2000.

CREATE FUNCTION resellerd_notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    col  text := TG_ARGV[1];
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('resellerd_changes', kind || ':' || string_agg(v, ','))
        FROM (SELECT v, (row_number() OVER ()) / 200 AS chunk
              FROM (SELECT DISTINCT to_jsonb(o) ->> col AS v FROM old_rows o) d
              WHERE v IS NOT NULL) x
        GROUP BY chunk;
    ELSE
        PERFORM pg_notify('resellerd_changes', kind || ':' || string_agg(v, ','))
        FROM (SELECT v, (row_number() OVER ()) / 200 AS chunk
              FROM (SELECT DISTINCT to_jsonb(n) ->> col AS v FROM new_rows n) d
              WHERE v IS NOT NULL) x
        GROUP BY chunk;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION resellerd_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('resellerd_changes', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER zuora_subscriptions_ins AFTER INSERT ON zuora_subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'number');
CREATE TRIGGER zuora_subscriptions_upd AFTER UPDATE ON zuora_subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'number');
CREATE TRIGGER zuora_subscriptions_del AFTER DELETE ON zuora_subscriptions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'number');

CREATE TRIGGER zuora_accounts_ins AFTER INSERT ON zuora_accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('a', 'id');
CREATE TRIGGER zuora_accounts_upd AFTER UPDATE ON zuora_accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('a', 'id');
CREATE TRIGGER zuora_accounts_del AFTER DELETE ON zuora_accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('a', 'id');

CREATE TRIGGER zuora_contacts_ins AFTER INSERT ON zuora_contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('c', 'id');
CREATE TRIGGER zuora_contacts_upd AFTER UPDATE ON zuora_contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('c', 'id');
CREATE TRIGGER zuora_contacts_del AFTER DELETE ON zuora_contacts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('c', 'id');

-- A quote matters to the subscription it names.
CREATE TRIGGER sf_quotes_ins AFTER INSERT ON sf_quotes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'subscription_number');
CREATE TRIGGER sf_quotes_upd AFTER UPDATE ON sf_quotes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'subscription_number');
CREATE TRIGGER sf_quotes_del AFTER DELETE ON sf_quotes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('s', 'subscription_number');

CREATE TRIGGER sf_opportunity_partners_ins AFTER INSERT ON sf_opportunity_partners
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('o', 'opportunity_id');
CREATE TRIGGER sf_opportunity_partners_upd AFTER UPDATE ON sf_opportunity_partners
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('o', 'opportunity_id');
CREATE TRIGGER sf_opportunity_partners_del AFTER DELETE ON sf_opportunity_partners
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_rows('o', 'opportunity_id');

CREATE TRIGGER partners_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_all();
CREATE TRIGGER partner_accounts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON partner_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_all();
CREATE TRIGGER policy_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_settings
    FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_all();
CREATE TRIGGER workflows_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON workflows
    FOR EACH STATEMENT EXECUTE FUNCTION resellerd_notify_all();
