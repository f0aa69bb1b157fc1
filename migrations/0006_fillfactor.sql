-- 0006: leave 10% of every heap page free on the tables that syncs,
-- webhooks and read-through update in place. An upsert that changes no
-- indexed column (a status, a name, an e-mail, synced_at) can then be a
-- HOT update: the new row version goes on the same page and no index is
-- touched. With full pages (the default fillfactor 100 after a full
-- sync) every such update wrote a new entry into every index of the
-- table. Applies to pages written from now on; a full sync rewrites them.
ALTER TABLE zuora_accounts SET (fillfactor = 90);
ALTER TABLE zuora_contacts SET (fillfactor = 90);
ALTER TABLE zuora_subscriptions SET (fillfactor = 90);
ALTER TABLE sf_quotes SET (fillfactor = 90);
