/*
 * sim_zuora: Zuora v1 endpoints (UPSTREAM.md 1.2, 1.4, 1.5, 1.6 C).
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZOQL_MAX_BATCH 2000

/* ===== helpers ===== */

/* GU's action error shape; [I] for ZOQL errors. */
static void zuora_error(struct resp *o, unsigned status, const char *code,
			const char *msg)
{
	resp_json(o, status, json_pack("{s[{ssss}]sb}", "Errors", "Code", code,
				       "Message", msg, "Success", 0));
}

static void process_id(char out[17])
{
	rand_hex(out, 16);
	for (char *c = out; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
}

static void not_found(const struct req *r, struct resp *o, const char *key)
{
	char pid[17], msg[320];
	process_id(pid);
	snprintf(msg, sizeof(msg), "Cannot find entity by key: '%.256s'.", key);
	resp_json(o, 200, json_pack("{sbsss[{siss}]ss}", "success", 0,
				    "processId", pid, "reasons", "code",
				    50000040, "message", msg, "requestId",
				    r->request_id));
}

static json_t *str_or(const struct rec *r, const char *field, const char *def)
{
	const char *s = r ? rec_str(r, field) : NULL;
	if (!s)
		s = def;
	return s ? json_string(s) : json_null();
}

static bool is_custom(const char *k)
{
	size_t n = strlen(k);
	return n > 3 && (!strcasecmp(k + n - 3, "__c") ||
			 (n > 4 && (!strcasecmp(k + n - 4, "__QT") ||
				    !strcasecmp(k + n - 4, "__NS"))));
}

/* Copy the record's custom fields (X__c, X__QT, X__NS) into dst. */
static void copy_custom(const struct rec *r, json_t *dst)
{
	if (r->j) {
		const char *k;
		json_t *v;
		json_object_foreach(r->j, k, v)
			if (is_custom(k))
				json_object_set(dst, k, v);
		return;
	}
	for (int k = 0; k < r->f->n; k++)
		if (is_custom(r->f->key[k]))
			json_object_set_new(dst, r->f->key[k],
					    val_json(&r->f->v[k]));
}

static json_t *contact_json(const char *id)
{
	struct flat *f = xmalloc(sizeof(*f));
	struct rec c;
	json_t *o = json_null();

	if (id && data_find_id(T_CONTACT, id, f, &c)) {
		json_decref(o);
		o = json_object();
		json_object_set_new(o, "id", str_or(&c, "Id", NULL));
		json_object_set_new(o, "firstName", str_or(&c, "FirstName", ""));
		json_object_set_new(o, "lastName", str_or(&c, "LastName", ""));
		json_object_set_new(o, "workEmail", str_or(&c, "WorkEmail", NULL));
		json_object_set_new(o, "personalEmail",
				    str_or(&c, "PersonalEmail", NULL));
		json_object_set_new(o, "country", str_or(&c, "Country", NULL));
		json_object_set_new(o, "state", str_or(&c, "State", ""));
		json_object_set_new(o, "city", str_or(&c, "City", ""));
		json_object_set_new(o, "zipCode", str_or(&c, "PostalCode", ""));
	}
	free(f);
	return o;
}

/* Account basicInfo; custom fields sit inside it (UPSTREAM.md 1.5). */
static json_t *basic_info(const struct rec *a)
{
	struct val v;
	json_t *o = json_object();
	json_object_set_new(o, "id", str_or(a, "Id", NULL));
	json_object_set_new(o, "accountNumber", str_or(a, "AccountNumber", NULL));
	json_object_set_new(o, "name", str_or(a, "Name", NULL));
	json_object_set_new(o, "status", str_or(a, "Status", "Active"));
	json_object_set_new(o, "crmId", str_or(a, "CrmId", ""));
	json_object_set_new(o, "partnerAccount",
			    json_boolean(rec_get(a, "PartnerAccount", &v) &&
					 v.t == V_BOOL && v.i));
	json_object_set_new(o, "parentId", str_or(a, "ParentId", NULL));
	json_object_set_new(o, "batch", str_or(a, "Batch", "Batch1"));
	json_object_set_new(o, "salesRep", str_or(a, "SalesRepName", ""));
	copy_custom(a, o);
	return o;
}

static bool conf_batch(json_t *body, size_t *batch, char *err, size_t len)
{
	json_t *b = json_object_get(json_object_get(body, "conf"), "batchSize");
	if (!b || json_is_null(b))
		return true;
	if (!json_is_integer(b) || json_integer_value(b) < 1 ||
	    json_integer_value(b) > ZOQL_MAX_BATCH) {
		snprintf(err, len, "batchSize must be an integer from 1 to %d",
			 ZOQL_MAX_BATCH);
		return false;
	}
	*batch = (size_t)json_integer_value(b);
	return true;
}

/* ===== OAuth ===== */

void zuora_token(const struct req *r, struct resp *o)
{
	char *id = form_get(r->body, r->body_len, "client_id");
	char *secret = form_get(r->body, r->body_len, "client_secret");
	char *grant = form_get(r->body, r->body_len, "grant_type");
	char tok[64], jti[33], user[33], ent[37], scope[160];

	if (!grant || strcmp(grant, "client_credentials") != 0) {
		resp_json(o, 400, json_pack("{ss}", "message",
			"grant_type must be client_credentials"));
	} else if (!id || !secret || strcmp(id, sim.cfg.zuora_id) != 0 ||
		   strcmp(secret, sim.cfg.zuora_secret) != 0) {
		/* [I] undocumented shape */
		resp_json(o, 401, json_pack("{ss}", "message",
					    "Invalid client credentials"));
	} else {
		pthread_mutex_lock(&sim.lock);
		token_issue(API_ZUORA, tok, sizeof(tok), sim.cfg.token_ttl);
		pthread_mutex_unlock(&sim.lock);
		rand_hex(jti, 32);
		rand_hex(user, 32);
		rand_hex(ent, 32);
		snprintf(scope, sizeof(scope),
			 "user.%s entity.%.8s-%.4s-%.4s-%.4s-%.12s "
			 "service.echo.read tenant.19",
			 user, ent, ent + 8, ent + 12, ent + 16, ent + 20);
		resp_json(o, 200, json_pack("{sssIssssss}", "access_token", tok,
			"expires_in", (json_int_t)sim.cfg.token_ttl, "jti", jti,
			"scope", scope, "token_type", "bearer"));
	}
	free(id);
	free(secret);
	free(grant);
}

/* ===== ZOQL ===== */

/* The query answer, written as text (the records come from cursor_page),
 * in the key order jansson kept: size, records, done, queryLocator. */
static void zuora_page(struct cursor *c, size_t off, struct resp *o)
{
	size_t batch = cursor_batch(c), total = cursor_total(c);
	struct buf b = {0};
	char loc[80];

	buf_adds(&b, "{\"size\":");
	buf_json_int(&b, (long long)total);
	buf_adds(&b, ",\"records\":");
	cursor_page(c, off, batch, &b);
	buf_adds(&b, off + batch >= total ? ",\"done\":true" : ",\"done\":false");
	if (off + batch < total) {
		snprintf(loc, sizeof(loc), "%s-%zu", cursor_id(c), off + batch);
		buf_adds(&b, ",\"queryLocator\":");
		buf_json_str(&b, loc);
	}
	buf_adds(&b, "}");
	resp_json_buf(o, 200, &b);
}

void zuora_query(const struct req *r, struct resp *o)
{
	json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
	const char *qs = json_string_value(json_object_get(body, "queryString"));
	size_t batch = ZOQL_MAX_BATCH;
	char err[768];
	struct query *q = NULL;

	pthread_mutex_lock(&sim.lock); /* the parser looks at the dataset */
	if (!json_is_object(body) || !qs) {
		zuora_error(o, 400, "INVALID_VALUE",
			    "request body must be JSON with a queryString");
	} else if (!conf_batch(body, &batch, err, sizeof(err))) {
		zuora_error(o, 400, "INVALID_VALUE", err);
	} else if (!(q = zoql_parse(qs, err, sizeof(err)))) {
		zuora_error(o, 400, "INVALID_VALUE", err);
	} else {
		struct cursor *c = cursor_run(q, API_ZUORA, NULL);
		cursor_set_batch(c, batch);
		zuora_page(c, 0, o);
	}
	pthread_mutex_unlock(&sim.lock);
	json_decref(body);
}

/* "<id>-<offset>" */
static bool split_locator(const char *loc, char *id, size_t idlen,
			  size_t *off)
{
	const char *dash = loc ? strrchr(loc, '-') : NULL;
	char *end;
	if (!dash || dash == loc || (size_t)(dash - loc) >= idlen || !dash[1])
		return false;
	unsigned long long v = strtoull(dash + 1, &end, 10);
	if (*end || dash[1] == '-' || dash[1] == '+')
		return false;
	memcpy(id, loc, (size_t)(dash - loc));
	id[dash - loc] = '\0';
	*off = (size_t)v;
	return true;
}

void zuora_query_more(const struct req *r, struct resp *o)
{
	json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
	const char *loc = json_string_value(json_object_get(body, "queryLocator"));
	char id[64], err[128];
	size_t off = 0, batch = 0;

	if (!conf_batch(body, &batch, err, sizeof(err))) {
		zuora_error(o, 400, "INVALID_VALUE", err);
		json_decref(body);
		return;
	}
	pthread_mutex_lock(&sim.lock);
	struct cursor *c = split_locator(loc, id, sizeof(id), &off)
				   ? cursor_find(id, API_ZUORA)
				   : NULL;
	if (!c || off >= cursor_total(c)) {
		/* [I] unknown or expired (after --locator-ttl) locators */
		zuora_error(o, 400, "INVALID_QUERY_LOCATOR",
			    "invalid or expired queryLocator");
	} else {
		if (batch)
			cursor_set_batch(c, batch);
		zuora_page(c, off, o);
	}
	pthread_mutex_unlock(&sim.lock);
	json_decref(body);
}

/* ===== GET /v1/subscriptions/{key} ===== */

static json_t *subscription_json(const struct req *r, const struct rec *s)
{
	struct flat *fa = xmalloc(sizeof(*fa)), *fo = xmalloc(sizeof(*fo));
	struct rec acct, owner;
	const char *aid = rec_str(s, "AccountId");
	const char *oid = rec_str(s, "InvoiceOwnerId");
	bool have_a = aid && data_find_id(T_ACCOUNT, aid, fa, &acct);
	bool have_o = oid && data_find_id(T_ACCOUNT, oid, fo, &owner);
	const char *start = rec_str(s, "TermStartDate");
	const char *arg;
	struct val v;
	json_t *o = json_object();
	char rev[32];

	json_object_set_new(o, "success", json_true());
	json_object_set_new(o, "id", str_or(s, "Id", NULL));
	json_object_set_new(o, "subscriptionNumber", str_or(s, "Name", NULL));
	rec_get(s, "Version", &v);
	json_object_set_new(o, "version", json_integer(v.t == V_INT ? v.i : 1));
	snprintf(rev, sizeof(rev), "%lld.0", v.t == V_INT ? v.i : 1);
	json_object_set_new(o, "revision", json_string(rev));
	json_object_set_new(o, "status", str_or(s, "Status", NULL));
	json_object_set_new(o, "accountId", json_string(aid ? aid : ""));
	json_object_set_new(o, "accountName", str_or(have_a ? &acct : NULL, "Name", NULL));
	json_object_set_new(o, "accountNumber", str_or(have_a ? &acct : NULL, "AccountNumber", NULL));
	json_object_set_new(o, "invoiceOwnerAccountId", json_string(oid ? oid : ""));
	json_object_set_new(o, "invoiceOwnerAccountName", str_or(have_o ? &owner : NULL, "Name", NULL));
	json_object_set_new(o, "invoiceOwnerAccountNumber", str_or(have_o ? &owner : NULL, "AccountNumber", NULL));
	json_object_set_new(o, "termType", str_or(s, "TermType", "TERMED"));
	json_object_set_new(o, "autoRenew", json_true());
	json_object_set_new(o, "currency", str_or(have_a ? &acct : NULL, "Currency", "USD"));
	json_object_set_new(o, "contractEffectiveDate", str_or(s, "ContractEffectiveDate", start));
	json_object_set_new(o, "subscriptionStartDate", str_or(s, "SubscriptionStartDate", start));
	json_object_set_new(o, "termStartDate", str_or(s, "TermStartDate", NULL));
	json_object_set_new(o, "termEndDate", str_or(s, "TermEndDate", NULL));
	json_object_set_new(o, "initialTerm", json_integer(12));
	json_object_set_new(o, "initialTermPeriodType", json_string("Month"));
	json_object_set_new(o, "renewalSetting", json_string("RENEW_WITH_SPECIFIC_TERM"));
	json_object_set_new(o, "renewalTerm", json_integer(12));
	json_object_set_new(o, "renewalTermPeriodType", json_string("Month"));
	json_object_set_new(o, "contractedMrr", json_real(0.0));
	if (rec_str(s, "CreatedById")) /* [I] not in the trimmed example */
		json_object_set_new(o, "createdById", str_or(s, "CreatedById", NULL));
	json_object_set_new(o, "billToContact",
			    contact_json(have_a ? rec_str(&acct, "BillToId") : NULL));
	json_object_set_new(o, "soldToContact",
			    contact_json(have_a ? rec_str(&acct, "SoldToId") : NULL));
	json_object_set_new(o, "ratePlans", json_array());
	copy_custom(s, o);
	arg = req_arg(r, "getInvoiceOwnerDetails");
	if (arg && !strcasecmp(arg, "true"))
		json_object_set_new(o, "invoiceOwnerAccountDetails",
				    have_o ? basic_info(&owner) : json_null());
	arg = req_arg(r, "getSubscriptionOwnerDetails");
	if (arg && !strcasecmp(arg, "true"))
		json_object_set_new(o, "accountOwnerDetails",
				    have_a ? basic_info(&acct) : json_null());
	free(fa);
	free(fo);
	return o;
}

void zuora_get_subscription(const struct req *r, struct resp *o)
{
	const char *key = strrchr(r->url, '/') + 1;
	struct flat *f = xmalloc(sizeof(*f));
	struct rec s;

	pthread_mutex_lock(&sim.lock);
	if (data_find_sub_latest(key, f, &s))
		resp_json(o, 200, subscription_json(r, &s));
	else
		not_found(r, o, key);
	pthread_mutex_unlock(&sim.lock);
	free(f);
}

/* ===== GET /v1/accounts/{key} ===== */

void zuora_get_account(const struct req *r, struct resp *o)
{
	const char *key = strrchr(r->url, '/') + 1;
	struct flat *f = xmalloc(sizeof(*f));
	struct rec a;

	pthread_mutex_lock(&sim.lock);
	if (data_find_account(key, f, &a)) {
		json_t *j = json_object();
		json_object_set_new(j, "basicInfo", basic_info(&a));
		json_object_set_new(j, "billToContact",
				    contact_json(rec_str(&a, "BillToId")));
		json_object_set_new(j, "soldToContact",
				    contact_json(rec_str(&a, "SoldToId")));
		json_object_set_new(j, "billingAndPayment", json_pack(
			"{sisosssb}", "billCycleDay", 1, "currency",
			str_or(&a, "Currency", "USD"), "paymentTerm", "Net 30",
			"autoPay", 0));
		json_object_set_new(j, "metrics", json_pack(
			"{sfsfsfsf}", "balance", 0.0, "contractedMrr", 0.0,
			"creditBalance", 0.0, "totalInvoiceBalance", 0.0));
		json_object_set_new(j, "success", json_true());
		resp_json(o, 200, j);
	} else {
		not_found(r, o, key);
	}
	pthread_mutex_unlock(&sim.lock);
	free(f);
}
