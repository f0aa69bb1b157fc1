/*
 * Every SQL statement the pool runs, prepared once per session. Parameters
 * only: SQL is never built from strings (STYLE.md 17).
 */
#include "store_internal.h"

/* Candidate i (1-based) of the decision's VP of Channel notes partners:
 * name, type, track (lib/store_decision.c reads CLASSIFY_MAX_NOTES_PARTNERS
 * of them). */
#define NOTES_PARTNER(i) "  np.n[" #i "], np.t[" #i "], np.k[" #i "]"

const struct store_stmt store_stmts[STMT__COUNT] = {
	[STMT_SCHEMA_VERSION] = {"schema_version",
		"SELECT coalesce(max(version), 0) FROM schema_migrations"},
	[STMT_SLEEP] = {"sleep", "SELECT pg_sleep($1::float8)"},
	[STMT_TOKEN_LOOKUP] = {"token_lookup",
		"SELECT scope, name FROM api_tokens"
		" WHERE hash = decode($1, 'hex') AND revoked_at IS NULL"},
	[STMT_TOKEN_CREATE] = {"token_create",
		"INSERT INTO api_tokens (name, hash, scope)"
		" VALUES ($1, decode($2, 'hex'), $3)"},
	[STMT_TOKEN_REVOKE] = {"token_revoke",
		"UPDATE api_tokens SET revoked_at = now()"
		" WHERE name = $1 AND revoked_at IS NULL"},
	[STMT_TOKEN_TOUCH] = {"token_touch",
		"UPDATE api_tokens SET last_used_at = now()"
		" WHERE hash = decode($1, 'hex')"
		" AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"},
	/* Everything one decision needs, in one round trip. $1 is a
	 * subscription number or the id of any of its versions. */
	[STMT_DECISION_INPUT] = {"decision_input",
		"WITH k AS (SELECT coalesce((SELECT number FROM zuora_subscription_ids WHERE id = $1), $1) AS number),"
		" s AS (SELECT zs.* FROM zuora_subscriptions zs, k WHERE zs.number = k.number)"
		" SELECT s.id, s.number, s.version, s.status, s.term_start::text, s.term_end::text,"
		"  s.created_by_id, s.ssp_channel, s.account_id, s.invoice_owner_id, s.origin,"
		"  to_char(s.synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		/* the epoch: no source timestamp yet (read live; store_sync.c) */
		"  to_char(nullif(s.source_updated_at, 'epoch') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		/* 13 */ "  sa.id, sa.number, sa.name, sa.partner_account::text, sa.ssp_channel, sa.crm_id,"
		/* 19 */ "  sa.sold_to_contact_id, nullif(concat_ws(' ', sst.first_name, sst.last_name), ''), sst.work_email, sst.email_domain,"
		/* 23 */ "  sa.bill_to_contact_id, nullif(concat_ws(' ', sbt.first_name, sbt.last_name), ''), sbt.work_email, sbt.email_domain,"
		/* 27 */ "  oa.id, oa.number, oa.name, oa.partner_account::text, oa.ssp_channel, oa.crm_id,"
		/* 33 */ "  oa.sold_to_contact_id, nullif(concat_ws(' ', ost.first_name, ost.last_name), ''), ost.work_email, ost.email_domain,"
		/* 37 */ "  oa.bill_to_contact_id, nullif(concat_ws(' ', obt.first_name, obt.last_name), ''), obt.work_email, obt.email_domain,"
		/* 41 */ "  q.id, q.status, q.resale_partner, q.distributor, q.invoice_owner_id, q.invoice_owner_name,"
		"  q.account_id, q.opportunity_id,"
		/* 49 */ "  to_char(q.synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		/* 50 */ "  op.name, op.type, op.track, rp.name, rp.type, rp.track,"
		/* 56 */ "  opp.role, opp.account_to_name,"
		/* 58 */ "  (SELECT to_char(max(last_success_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		"     FROM sync_state WHERE source = 'salesforce'),"
		/* 59 */ "  q.vp_channel_notes,"
		/* 60 */ NOTES_PARTNER(1) "," NOTES_PARTNER(2) "," NOTES_PARTNER(3) ","
		NOTES_PARTNER(4) "," NOTES_PARTNER(5) "," NOTES_PARTNER(6) ","
		NOTES_PARTNER(7) "," NOTES_PARTNER(8) ","
		/* 84 */ "  array_to_string(op.email_domains, ';'),"
		/* 85 */ "  to_char(op.imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		" FROM s"
		" LEFT JOIN zuora_accounts sa ON sa.id = s.account_id"
		" LEFT JOIN zuora_contacts sst ON sst.id = sa.sold_to_contact_id"
		" LEFT JOIN zuora_contacts sbt ON sbt.id = sa.bill_to_contact_id"
		" LEFT JOIN zuora_accounts oa ON oa.id = s.invoice_owner_id"
		" LEFT JOIN zuora_contacts ost ON ost.id = oa.sold_to_contact_id"
		" LEFT JOIN zuora_contacts obt ON obt.id = oa.bill_to_contact_id"
		" LEFT JOIN LATERAL (SELECT * FROM sf_quotes sq WHERE sq.subscription_number = s.number"
		"   AND NOT sq.is_deleted ORDER BY (sq.status = 'Sent to Z-Billing') DESC, sq.modstamp DESC"
		"   LIMIT 1) q ON true"
		" LEFT JOIN LATERAL (SELECT p.* FROM partner_accounts pa JOIN partners p ON p.id = pa.partner_id"
		"   WHERE pa.account_key IN (oa.number, s.invoice_owner_id) LIMIT 1) op ON true"
		" LEFT JOIN LATERAL (SELECT p.* FROM partners p WHERE lower(p.name) = lower(q.resale_partner)"
		"   LIMIT 1) rp ON true"
		" LEFT JOIN LATERAL (SELECT role, account_to_name FROM sf_opportunity_partners x"
		"   WHERE x.opportunity_id = q.opportunity_id ORDER BY x.is_primary DESC NULLS LAST"
		"   LIMIT 1) opp ON true"
		/* Registry resellers and MSPs the VP of Channel notes may name,
		 * only when the quote's resale partner field is empty: a cheap
		 * substring prefilter (case ignored, the notes' whitespace runs
		 * read as one space; registry names are single-spaced) that
		 * classify narrows to whole words. The first 8 by position
		 * (then the longest name) are kept. The gate on the quote is a
		 * one-time filter, so other decisions never scan the registry;
		 * OFFSET 0 keeps the notes normalized once, not per partner
		 * (measured: about 2 ms instead of 40 ms for 5000 partners). */
		" LEFT JOIN LATERAL (SELECT array_agg(c.name) AS n, array_agg(c.type) AS t,"
		"   array_agg(c.track) AS k FROM (SELECT p.name, p.type, p.track"
		"   FROM (SELECT regexp_replace(lower(q.vp_channel_notes), '\\s+', ' ', 'g') AS txt"
		"     WHERE coalesce(q.resale_partner, '') = '' AND q.vp_channel_notes <> ''"
		"     OFFSET 0) nn"
		"   JOIN partners p ON p.type IN ('reseller', 'msp') AND strpos(nn.txt, lower(p.name)) > 0"
		"   ORDER BY strpos(nn.txt, lower(p.name)), length(p.name) DESC, p.name LIMIT 8) c) np ON true"},
	[STMT_POLICY] = {"policy", "SELECT key, value FROM policy_settings"},
	[STMT_WORKFLOWS] = {"workflows",
		"SELECT id, version, title, handbook_path, applies_when, steps::text,"
		" warnings::text, proof::text, array_to_json(sections)::text,"
		" coalesce(sections[1], '') FROM workflows ORDER BY id"},
	[STMT_PARTNERS] = {"partners",
		"SELECT p.name, p.type, p.track, array_to_json(p.email_domains)::text,"
		" coalesce((SELECT json_agg(account_key ORDER BY account_key) FROM partner_accounts"
		"  WHERE partner_id = p.id), '[]')::text FROM partners p ORDER BY p.name"},
#define SEARCH_COLUMNS \
	"SELECT a.id, a.number, a.name, a.partner_account::text, a.ssp_channel," \
	" st.work_email, nullif(concat_ws(' ', st.first_name, st.last_name), '')," \
	" coalesce((SELECT json_agg(json_build_object('number', s.number, 'id', s.id," \
	"   'status', s.status, 'role', CASE WHEN s.account_id = a.id THEN 'subscriber'" \
	"   ELSE 'invoice_owner' END) ORDER BY s.number) FROM zuora_subscriptions s" \
	"   WHERE s.account_id = a.id OR s.invoice_owner_id = a.id), '[]')::text" \
	" FROM zuora_accounts a LEFT JOIN zuora_contacts st ON st.id = a.sold_to_contact_id"
	[STMT_SEARCH_EMAIL] = {"search_email", SEARCH_COLUMNS
		" WHERE a.id IN (SELECT account_id FROM zuora_contacts WHERE lower(work_email) = lower($1))"
		" ORDER BY a.number LIMIT 50"},
	[STMT_SEARCH_ACCOUNT] = {"search_account", SEARCH_COLUMNS
		" WHERE a.number = $1 OR a.id = $1 ORDER BY a.number LIMIT 50"},
	[STMT_SEARCH_NAME] = {"search_name", SEARCH_COLUMNS
		" WHERE lower(a.name) LIKE '%' || replace(replace(replace(lower($1), '\\', '\\\\'),"
		" '%', '\\%'), '_', '\\_') || '%' ORDER BY a.name, a.number LIMIT 50"},
	[STMT_AUDIT] = {"audit",
		"INSERT INTO audit_log (token_name, action, subject, request_id, at)"
		" SELECT t, a, s, r, to_timestamp(e) FROM unnest($1::text[], $2::text[], $3::text[],"
		"  $4::text[], $5::float8[]) AS u(t, a, s, r, e)"},
	[STMT_AUDIT_PURGE] = {"audit_purge",
		"DELETE FROM audit_log WHERE at < now() - make_interval(days =>"
		" coalesce((SELECT value::int FROM policy_settings WHERE key = 'audit_retention_days'), 90))"},
};
const int store_stmt_count = STMT__COUNT;
