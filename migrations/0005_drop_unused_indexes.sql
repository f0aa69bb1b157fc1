-- 0005: drop the indexes no query uses. Every sync page pays for each
-- index on each row it writes (a profile of a full sync showed b-tree
-- comparisons as the largest single cost in PostgreSQL), so an index
-- earns its place only through a query that reads it:
--   zuora_accounts_updated_idx     no query filters or sorts accounts by
--                                  source_updated_at (the watermark lives
--                                  in sync_state);
--   zuora_accounts_lower_name_idx  name search is an infix LIKE
--                                  ('%' || term || '%'), which a b-tree
--                                  with text_pattern_ops cannot serve;
--   zuora_subscriptions_id_idx     lookups by subscription id go through
--                                  zuora_subscription_ids;
--   zuora_contacts_account_idx     search by e-mail reads contacts by
--                                  lower(work_email), never by account;
--   sf_quotes_opportunity_idx      quotes are read by subscription number;
--                                  opportunity partners by their own index.
DROP INDEX IF EXISTS zuora_accounts_updated_idx;
DROP INDEX IF EXISTS zuora_accounts_lower_name_idx;
DROP INDEX IF EXISTS zuora_subscriptions_id_idx;
DROP INDEX IF EXISTS zuora_contacts_account_idx;
DROP INDEX IF EXISTS sf_quotes_opportunity_idx;
