-- resellerd schema: a cache of Zuora and Salesforce records, the partner
-- registry, API tokens, sync state and the webhook inbox.
-- No foreign keys between cached upstream objects: sync pages arrive in any
-- order (a subscription may land before its accounts), and a decision
-- reports missing data instead of failing.

CREATE TABLE zuora_accounts (
    id                 text PRIMARY KEY,
    number             text NOT NULL,
    name               text NOT NULL DEFAULT '',
    status             text,
    partner_account    boolean,            -- NULL: upstream did not say
    ssp_channel        text,
    crm_id             text,
    parent_id          text,
    sold_to_contact_id text,
    bill_to_contact_id text,
    source_updated_at  timestamptz NOT NULL,
    synced_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zuora_accounts_number_idx ON zuora_accounts (number);
CREATE INDEX zuora_accounts_lower_name_idx ON zuora_accounts (lower(name) text_pattern_ops);
CREATE INDEX zuora_accounts_updated_idx ON zuora_accounts (source_updated_at);

CREATE TABLE zuora_contacts (
    id                text PRIMARY KEY,
    account_id        text,
    first_name        text,
    last_name         text,
    work_email        text,
    email_domain      text GENERATED ALWAYS AS (lower(split_part(work_email, '@', 2))) STORED,
    source_updated_at timestamptz NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zuora_contacts_email_idx ON zuora_contacts (lower(work_email));
CREATE INDEX zuora_contacts_account_idx ON zuora_contacts (account_id);

-- One row per subscription number: the latest version wins.
CREATE TABLE zuora_subscriptions (
    number            text PRIMARY KEY,
    id                text NOT NULL,       -- id of the latest version
    version           integer NOT NULL,
    status            text,
    term_start        date,
    term_end          date,
    account_id        text NOT NULL,       -- subscriber
    invoice_owner_id  text NOT NULL,       -- payer
    created_by_id     text,
    ssp_channel       text,
    source_updated_at timestamptz NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    origin            text NOT NULL DEFAULT 'sync' CHECK (origin IN ('sync', 'live', 'webhook'))
);
CREATE INDEX zuora_subscriptions_id_idx ON zuora_subscriptions (id);
CREATE INDEX zuora_subscriptions_account_idx ON zuora_subscriptions (account_id);
CREATE INDEX zuora_subscriptions_owner_idx ON zuora_subscriptions (invoice_owner_id);

-- Every version id seen, so a lookup by an older version's id still finds
-- the latest version (Zuora's {subscription-key} semantics).
CREATE TABLE zuora_subscription_ids (
    id     text PRIMARY KEY,
    number text NOT NULL
);

CREATE TABLE sf_quotes (
    id                    text PRIMARY KEY,
    name                  text,
    status                text,
    subscription_number   text,
    zuora_subscription_id text,
    zuora_account_id      text,
    resale_partner        text,
    distributor           text,
    invoice_owner_id      text,
    invoice_owner_name    text,
    account_id            text,
    opportunity_id        text,
    is_deleted            boolean NOT NULL DEFAULT false,
    modstamp              timestamptz NOT NULL,
    synced_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sf_quotes_subscription_idx ON sf_quotes (subscription_number, modstamp DESC);
CREATE INDEX sf_quotes_opportunity_idx ON sf_quotes (opportunity_id);

CREATE TABLE sf_opportunity_partners (
    id              text PRIMARY KEY,
    opportunity_id  text,
    account_to_id   text,
    account_to_name text,
    role            text,
    is_primary      boolean,
    modstamp        timestamptz NOT NULL,
    synced_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sf_opportunity_partners_opp_idx ON sf_opportunity_partners (opportunity_id);

-- The authorized partner directory, replaced whole by each import.
CREATE TABLE partners (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    type          text NOT NULL CHECK (type IN ('reseller', 'distributor', 'msp', 'marketplace')),
    track         text CHECK (track IN ('Select', 'Open', 'Technology')),
    email_domains text[] NOT NULL DEFAULT '{}',
    imported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partners_lower_name_idx ON partners (lower(name));

-- A partner's Zuora account numbers or ids, one row each.
CREATE TABLE partner_accounts (
    account_key text PRIMARY KEY,
    partner_id  bigint NOT NULL REFERENCES partners (id) ON DELETE CASCADE
);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    hash         bytea NOT NULL UNIQUE,    -- SHA-256 of the token
    scope        text NOT NULL CHECK (scope IN ('read', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_tokens_active_name_idx ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE sync_state (
    source          text NOT NULL CHECK (source IN ('zuora', 'salesforce')),
    object          text NOT NULL,
    watermark       timestamptz,
    last_started_at timestamptz,
    last_success_at timestamptz,
    last_error      text,
    last_error_at   timestamptz,
    rows_total      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (source, object)
);

CREATE TABLE webhook_inbox (
    notification_id     text PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    subscription_number text,
    account_id          text,
    processed_at        timestamptz,
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text
);
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (received_at) WHERE processed_at IS NULL;

-- Policy settings are data: editable without a rebuild.
CREATE TABLE policy_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO policy_settings (key, value) VALUES
    ('portal_access', 'none'),               -- the seed; 'read_only' from 2023-06-28
    ('cloud_licensing_cutoff', '2022-07-07');
