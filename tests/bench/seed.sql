-- 1M subscriptions for tests/bench, generated in SQL for speed (the sync
-- benchmark loads through the simulator instead). Every 10th subscription
-- is invoice-owned by one of 100 reseller partners (in the registry),
-- every 5th has a Sent to Z-Billing quote.
\set n 1000000
BEGIN;
INSERT INTO zuora_contacts (id, account_id, first_name, last_name, work_email, source_updated_at)
SELECT 'c' || lpad(to_hex(g), 31, '0'), 'a' || lpad(to_hex(g), 31, '0'), 'First', 'Last' || g,
       'user' || g || '@cust' || g || '.example', now()
FROM generate_series(1, :n + 100) g;
INSERT INTO zuora_accounts (id, number, name, partner_account, ssp_channel, sold_to_contact_id,
                            bill_to_contact_id, source_updated_at)
SELECT 'a' || lpad(to_hex(g), 31, '0'), 'A' || lpad(g::text, 8, '0'),
       CASE WHEN g > :n THEN 'Reseller ' || (g - :n) ELSE 'Customer ' || g END,
       g > :n, CASE WHEN g > :n THEN 'Reseller' END,
       'c' || lpad(to_hex(g), 31, '0'), 'c' || lpad(to_hex(g), 31, '0'), now()
FROM generate_series(1, :n + 100) g;
INSERT INTO zuora_subscriptions (number, id, version, status, term_start, term_end, account_id,
                                 invoice_owner_id, created_by_id, ssp_channel, source_updated_at)
SELECT 'A-S' || lpad(g::text, 8, '0'), 'b' || lpad(to_hex(g), 31, '0'), 1, 'Active', '2023-01-01',
       '2024-01-01', 'a' || lpad(to_hex(g), 31, '0'),
       CASE WHEN g % 10 = 0 THEN 'a' || lpad(to_hex(:n + g % 100 + 1), 31, '0')
            ELSE 'a' || lpad(to_hex(g), 31, '0') END,
       CASE WHEN g % 5 = 1 THEN '2c92a0fd55822b4d015590d1f3a40b5f' ELSE 'u1' END,
       CASE WHEN g % 10 = 0 THEN 'Reseller' END, now()
FROM generate_series(1, :n) g;
INSERT INTO zuora_subscription_ids (id, number) SELECT id, number FROM zuora_subscriptions;
INSERT INTO sf_quotes (id, name, status, subscription_number, resale_partner, invoice_owner_id,
                       modstamp)
SELECT 'q' || g, 'Q-' || g, 'Sent to Z-Billing', 'A-S' || lpad(g::text, 8, '0'),
       CASE WHEN g % 10 = 0 THEN 'Reseller ' || (g % 100 + 1) END,
       CASE WHEN g % 10 = 0 THEN 'a' || lpad(to_hex(:n + g % 100 + 1), 31, '0')
            ELSE 'a' || lpad(to_hex(g), 31, '0') END, now()
FROM generate_series(5, :n, 5) g;
INSERT INTO partners (name, type, track, email_domains)
SELECT 'Reseller ' || p, 'reseller', 'Open', ARRAY['reseller' || p || '.example'] FROM generate_series(1, 100) p;
INSERT INTO partner_accounts (account_key, partner_id)
SELECT 'A' || lpad((:n + p)::text, 8, '0'), (SELECT id FROM partners WHERE name = 'Reseller ' || p)
FROM generate_series(1, 100) p;
COMMIT;
ANALYZE;
