/*
 * sim_gen: a deterministic synthetic dataset, rendered on demand.
 *
 * Nothing is stored per record: every field of generated row i of a table
 * is a pure function of (seed, i). Only two small index arrays are kept
 * (which subscriptions have a quote, which quotes have a partner row), so
 * 1M subscriptions cost a few MB. Rows of each table are generated in
 * (timestamp, Id) order: timestamps grow strictly with the row index.
 *
 * Layout (N subscriptions, P partners, Q parent companies):
 *   accounts:  [0,N) subscribers, [N,N+P) partners, then the two
 *              marketplaces, then Q parent companies
 *   contacts:  one per account, same index (Sold-To = Bill-To)
 *   subscriptions: every 10th subscription (i % 10 == 3) has an older
 *              version row just before its latest row
 *   quotes:    sales-assisted, reseller, two-tier and MSP subscriptions
 *   opportunity_partners: one per reseller/two-tier/MSP quote
 *
 * Ids: Zuora ids are 32 lower-case hex, Salesforce ids 18 characters; both
 * encode the row index reversibly so a lookup by Id is O(1).
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#define BASE_MS 1704067200000LL /* 2024-01-01T00:00:00Z */
#define DAY_MS 86400000LL
#define K_MUL 0x9e3779b97f4a7c15ULL
#define FULFILLMENT_USER "2c92a0fd55822b4d015590d1f3a40b5f"

enum channel {
	CH_WEB,
	CH_SALES,
	CH_RESELLER,
	CH_TWO_TIER,
	CH_MSP,
	CH_AWS,
	CH_GCP,
	CH_UNDETERMINED,
	CH_CONFLICT
};

enum ptype { P_DISTRIBUTOR, P_MSP, P_RESELLER };

/* Extra id spaces beyond the tables. */
enum { ID_SF_ACCOUNT = T_COUNT, ID_OPPORTUNITY, ID_SPACES };

static struct {
	bool on;
	uint64_t seed;
	uint32_t n, np, nq;
	uint32_t nsubrows, naccts;
	uint32_t *quote_sub, nquotes;
	uint32_t *op_quote, nops;
	uint64_t key[ID_SPACES];
	uint64_t kinv;
	char zprefix[T_COUNT][17];
} g;

static const char *const first_names[] = {
	"Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro",
	"Ines", "Jonas", "Kemal", "Lena", "Mateo", "Nina", "Omar", "Priya"};
static const char *const last_names[] = {
	"Adams", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia",
	"Hoffmann", "Ivanova", "Jensen", "Kowalski", "Larsen", "Moreau",
	"Novak", "Okafor", "Patel"};
static const char *const words[] = {
	"Alpine", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite",
	"Harbor", "Iris", "Juniper", "Krypton", "Lumen", "Maple", "Nimbus",
	"Onyx", "Polar"};
static const char *const suffixes[] = {"GmbH", "Ltd", "Inc.", "SAS", "BV",
				       "AG"};
static const char *const countries[] = {"United States", "Germany",
					 "France", "Japan"};
static const char *const sales_users[] = {
	"2c92a0fe6b4b0a7c016b5a3f1e2d0a11", "2c92a0fe6b4b0a7c016b5a3f1e2d0a22",
	"2c92a0fe6b4b0a7c016b5a3f1e2d0a33", "2c92a0fe6b4b0a7c016b5a3f1e2d0a44"};

#define PICK(arr, h) (arr[(h) % (sizeof(arr) / sizeof(arr[0]))])

/* ===== text: the per-row fields are formatted without printf ===== */

/* Text appended into a fixed buffer, cut at its size as snprintf cut it.
 * The generator formats a dozen fields per row: vfprintf was most of its
 * cost once the pages stopped building jansson trees. */
struct text {
	char *p;
	size_t len, size;
};

static struct text text_at(char *p, size_t size)
{
	struct text t = {p, 0, size};
	p[0] = '\0';
	return t;
}

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);
	if (n > t->size - 1 - t->len)
		n = t->size - 1 - t->len;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* v in decimal, zero-padded to width digits (printf's %0*u). */
static void text_num(struct text *t, uint64_t v, int width)
{
	char d[24];
	char *p = d + sizeof(d) - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v || d + sizeof(d) - 1 - p < width);
	text_add(t, p);
}

/* prefix then v in 8 digits: "A00000001", "A-S00000001", "Q-00000001" */
static void flat_numbered(struct flat *f, const char *key, const char *prefix,
			  uint32_t v)
{
	char buf[64];
	struct text t = text_at(buf, sizeof(buf));
	text_add(&t, prefix);
	text_num(&t, v, 8);
	flat_str(f, key, buf);
}

/* ===== ids ===== */

static uint64_t id_enc(int space, uint32_t i)
{
	return ((uint64_t)i + 1) * K_MUL + g.key[space];
}

static bool id_dec(int space, uint64_t y, uint32_t limit, uint32_t *i)
{
	uint64_t x = (y - g.key[space]) * g.kinv;
	if (x == 0 || x > limit)
		return false;
	*i = (uint32_t)(x - 1);
	return true;
}

static void zuora_id(enum tbl t, uint32_t i, char out[40])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = id_enc(t, i);

	memcpy(out, g.zprefix[t], 16); /* "8a80" and 12 hex digits */
	for (int k = 31; k >= 16; k--, v >>= 4)
		out[k] = hex[v & 15];
	out[32] = '\0';
}

static const char *sf_prefix(int space)
{
	switch (space) {
	case T_QUOTE:
		return "a0xDn0";
	case T_OPP_PARTNER:
		return "00IDn0";
	case ID_SF_ACCOUNT:
		return "001Dn0";
	default:
		return "006Dn0";
	}
}

static void sf_id(int space, uint32_t i, char out[40])
{
	memcpy(out, sf_prefix(space), 6);
	enc62(id_enc(space, i), out + 6);
}

/* ===== channel model ===== */

static uint64_t h(uint32_t i, uint64_t salt)
{
	return mix64(g.seed * 0x100000001b3ULL ^ ((uint64_t)i << 8) ^ salt);
}

static enum channel channel_of(uint32_t i)
{
	uint64_t r = h(i, 1) % 1000;
	if (r < 70)
		return CH_RESELLER;
	if (r < 85)
		return CH_TWO_TIER;
	if (r < 100)
		return CH_MSP;
	if (r < 110)
		return CH_AWS;
	if (r < 120)
		return CH_GCP;
	if (r < 130)
		return CH_UNDETERMINED;
	if (r < 135)
		return CH_CONFLICT;
	if (r < 535)
		return CH_SALES;
	return CH_WEB;
}

static enum ptype partner_type(uint32_t k)
{
	return k % 10 == 0 ? P_DISTRIBUTOR : k % 10 == 1 ? P_MSP : P_RESELLER;
}

/* A partner index of the wanted type, picked by salt. */
static uint32_t pick_partner(uint32_t i, enum ptype want, uint64_t salt)
{
	uint32_t k = (uint32_t)(h(i, salt) % g.np);
	uint32_t base = k / 10 * 10;
	uint32_t off = want == P_DISTRIBUTOR ? 0 : want == P_MSP ? 1 : 2 + k % 8;
	if (base + off >= g.np)
		base -= 10; /* np >= 10, so block 0 is complete */
	return base + off;
}

static uint32_t acct_partner(uint32_t k)
{
	return g.n + k;
}

/* Invoice owner account of subscription i. */
static uint32_t owner_of(uint32_t i, enum channel ch)
{
	switch (ch) {
	case CH_RESELLER:
		return acct_partner(pick_partner(i, P_RESELLER, 2));
	case CH_TWO_TIER:
		return acct_partner(pick_partner(i, P_DISTRIBUTOR, 2));
	case CH_MSP:
		return acct_partner(pick_partner(i, P_MSP, 2));
	case CH_AWS:
		return g.n + g.np;
	case CH_GCP:
		return g.n + g.np + 1;
	case CH_UNDETERMINED:
		return g.n + g.np + 2 + (uint32_t)(h(i, 3) % g.nq);
	default:
		return i;
	}
}

/* "Alpine Blue 0000001 GmbH", "Partner 0001 Reseller GmbH", ... */
static void account_name(uint32_t a, char *out, size_t n)
{
	struct text t = text_at(out, n);

	if (a < g.n) {
		uint64_t x = h(a, 4);
		text_add(&t, PICK(words, x));
		text_add(&t, " ");
		text_add(&t, PICK(words, x >> 8));
		text_add(&t, " ");
		text_num(&t, a + 1, 7);
		text_add(&t, " ");
		text_add(&t, PICK(suffixes, x >> 16));
	} else if (a < g.n + g.np) {
		uint32_t k = a - g.n;
		text_add(&t, "Partner ");
		text_num(&t, k + 1, 4);
		text_add(&t, partner_type(k) == P_DISTRIBUTOR ? " Distribution Inc."
			     : partner_type(k) == P_MSP	  ? " Managed Services Ltd."
							  : " Reseller GmbH");
	} else if (a == g.n + g.np) {
		text_add(&t, "Amazon Web Services, Inc.");
	} else if (a == g.n + g.np + 1) {
		text_add(&t, "Google Cloud Marketplace");
	} else {
		text_add(&t, "Parent Holding ");
		text_num(&t, a - g.n - g.np - 1, 5);
		text_add(&t, " AG");
	}
}

/* "c0000001.example.com", "partner0001.example.net", ... */
static void account_domain(uint32_t a, char *out, size_t n)
{
	struct text t = text_at(out, n);

	if (a < g.n) {
		text_add(&t, "c");
		text_num(&t, a + 1, 7);
		text_add(&t, ".example.com");
	} else if (a < g.n + g.np) {
		text_add(&t, "partner");
		text_num(&t, a - g.n + 1, 4);
		text_add(&t, ".example.net");
	} else if (a == g.n + g.np) {
		text_add(&t, "aws.example.org");
	} else if (a == g.n + g.np + 1) {
		text_add(&t, "gcp.example.org");
	} else {
		text_add(&t, "parent");
		text_num(&t, a - g.n - g.np - 1, 5);
		text_add(&t, ".example.com");
	}
}

/* ===== subscription row layout: blocks of 10 subscriptions, 11 rows ===== */

static void sub_of_row(uint32_t r, uint32_t *i, int *version, bool *latest)
{
	uint32_t block = r / 11, off = r % 11;
	*version = 1;
	*latest = true;
	if (off < 3) {
		*i = block * 10 + off;
	} else if (off == 3) {
		*i = block * 10 + 3;
		*latest = false;
	} else if (off == 4) {
		*i = block * 10 + 3;
		*version = 2;
	} else {
		*i = block * 10 + off - 1;
	}
}

static uint32_t latest_row(uint32_t i)
{
	uint32_t block = i / 10, off = i % 10;
	return block * 11 + (off < 3 ? off : off + 1);
}

/* ===== public ===== */

bool gen_init(uint32_t n_subs, uint64_t seed)
{
	uint32_t rem;

	gen_free();
	if (n_subs == 0 || n_subs > 100000000u)
		return false;
	g.on = true;
	g.seed = seed;
	g.n = n_subs;
	g.np = n_subs / 500 < 10 ? 10 : n_subs / 500 > 5000 ? 5000 : n_subs / 500;
	g.nq = n_subs / 1000 < 1 ? 1 : n_subs / 1000 > 5000 ? 5000 : n_subs / 1000;
	g.naccts = g.n + g.np + 2 + g.nq;
	rem = n_subs % 10;
	g.nsubrows = n_subs / 10 * 11 + rem + (rem > 3 ? 1 : 0);
	g.kinv = K_MUL;
	for (int k = 0; k < 6; k++)
		g.kinv *= 2 - K_MUL * g.kinv;
	for (int s = 0; s < ID_SPACES; s++)
		g.key[s] = mix64(seed ^ (UINT64_C(0x5157) + (uint64_t)s));
	for (int t = 0; t < T_COUNT; t++)
		snprintf(g.zprefix[t], sizeof(g.zprefix[t]), "8a80%012llx",
			 (unsigned long long)(mix64(seed * 31 + (uint64_t)t) &
					      0xffffffffffffULL));

	g.quote_sub = xmalloc(sizeof(uint32_t) * n_subs);
	g.op_quote = xmalloc(sizeof(uint32_t) * n_subs);
	for (uint32_t i = 0; i < n_subs; i++) {
		enum channel ch = channel_of(i);
		bool partner = ch == CH_RESELLER || ch == CH_TWO_TIER ||
			       ch == CH_MSP;
		if (!partner && ch != CH_SALES)
			continue;
		if (partner)
			g.op_quote[g.nops++] = g.nquotes;
		g.quote_sub[g.nquotes++] = i;
	}
	return true;
}

void gen_free(void)
{
	free(g.quote_sub);
	free(g.op_quote);
	memset(&g, 0, sizeof(g));
}

uint32_t gen_count(enum tbl t)
{
	if (!g.on)
		return 0;
	switch (t) {
	case T_ACCOUNT:
	case T_CONTACT:
		return g.naccts;
	case T_SUBSCRIPTION:
		return g.nsubrows;
	case T_QUOTE:
		return g.nquotes;
	case T_OPP_PARTNER:
		return g.nops;
	default:
		return 0;
	}
}

int64_t gen_ts(enum tbl t, uint32_t i)
{
	switch (t) {
	case T_CONTACT:
		return BASE_MS + (int64_t)i * 20000 + 1000;
	case T_QUOTE:
		return BASE_MS + (int64_t)i * 40000;
	case T_OPP_PARTNER:
		return BASE_MS + (int64_t)i * 60000;
	default:
		return BASE_MS + (int64_t)i * 20000;
	}
}

void gen_id(enum tbl t, uint32_t i, char out[40])
{
	if (t == T_QUOTE || t == T_OPP_PARTNER)
		sf_id(t, i, out);
	else
		zuora_id(t, i, out);
}

bool gen_find_id(enum tbl t, const char *id, uint32_t *i)
{
	uint64_t y;
	uint32_t count = gen_count(t);
	char *end;

	if (!count)
		return false;
	if (t == T_QUOTE || t == T_OPP_PARTNER) {
		const char *p = sf_prefix(t);
		if (strlen(id) != 18 || strncmp(id, p, 6) != 0 ||
		    !dec62(id + 6, &y))
			return false;
		return id_dec(t, y, count, i);
	}
	if (strlen(id) != 32 || strncmp(id, g.zprefix[t], 16) != 0)
		return false;
	for (int k = 16; k < 32; k++)
		if (!((id[k] >= '0' && id[k] <= '9') ||
		      (id[k] >= 'a' && id[k] <= 'f')))
			return false;
	y = strtoull(id + 16, &end, 16);
	return *end == '\0' && id_dec(t, y, count, i);
}

static bool parse_number(const char *s, const char *prefix, uint32_t *n)
{
	size_t pl = strlen(prefix);
	unsigned long long v = 0;
	const char *p = s + pl;

	if (strncmp(s, prefix, pl) != 0 || !*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000000ULL)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*n = (uint32_t)v;
	return true;
}

bool gen_find_sub_number(const char *number, uint32_t *row)
{
	uint32_t n;
	if (!g.on || !parse_number(number, "A-S", &n) || n > g.n)
		return false;
	*row = latest_row(n - 1);
	return true;
}

bool gen_find_account_number(const char *number, uint32_t *row)
{
	uint32_t n;
	if (!g.on || !parse_number(number, "A", &n) || n > g.naccts)
		return false;
	*row = n - 1;
	return true;
}

/* ===== records ===== */

static void gen_account(uint32_t a, struct flat *f)
{
	char id[40], buf[128];
	enum channel ch = a < g.n ? channel_of(a) : CH_WEB;

	zuora_id(T_ACCOUNT, a, id);
	flat_str(f, "Id", id);
	flat_numbered(f, "AccountNumber", "A", a + 1);
	account_name(a, buf, sizeof(buf));
	flat_str(f, "Name", buf);
	flat_str(f, "Status", "Active");
	flat_bool(f, "PartnerAccount", a >= g.n && a < g.n + g.np + 2);
	sf_id(ID_SF_ACCOUNT, a, buf);
	flat_str(f, "CrmId", buf);
	if (a < g.n) {
		if (ch == CH_RESELLER || ch == CH_TWO_TIER || ch == CH_MSP ||
		    ch == CH_CONFLICT)
			flat_str(f, "SSPChannel__c", "Reseller");
		else if ((ch == CH_WEB || ch == CH_SALES) && h(a, 5) % 2)
			flat_str(f, "SSPChannel__c", "Non-Reseller");
		if (ch == CH_UNDETERMINED) {
			zuora_id(T_ACCOUNT, owner_of(a, ch), buf);
			flat_str(f, "ParentId", buf);
		}
	}
	zuora_id(T_CONTACT, a, buf);
	flat_str(f, "SoldToId", buf);
	flat_str(f, "BillToId", buf);
	flat_str(f, "Batch", "Batch1");
	flat_str(f, "Currency", "USD");
	ts_format_zuora(gen_ts(T_ACCOUNT, a) - DAY_MS, buf);
	flat_str(f, "CreatedDate", buf);
	ts_format_zuora(gen_ts(T_ACCOUNT, a), buf);
	flat_str(f, "UpdatedDate", buf);
}

static void gen_contact(uint32_t c, struct flat *f)
{
	char buf[128], dom[64];
	struct text t;
	uint64_t x = h(c, 6);
	const char *fn = PICK(first_names, x), *ln = PICK(last_names, x >> 8);

	zuora_id(T_CONTACT, c, buf);
	flat_str(f, "Id", buf);
	zuora_id(T_ACCOUNT, c, buf);
	flat_str(f, "AccountId", buf);
	flat_str(f, "FirstName", fn);
	flat_str(f, "LastName", ln);
	account_domain(c, dom, sizeof(dom));
	t = text_at(buf, sizeof(buf));
	text_add(&t, fn);
	text_add(&t, ".");
	text_add(&t, ln);
	text_add(&t, "@");
	text_add(&t, dom);
	for (char *p = buf; *p && *p != '@'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	flat_str(f, "WorkEmail", buf);
	flat_str(f, "Country", PICK(countries, x >> 16));
	ts_format_zuora(gen_ts(T_CONTACT, c), buf);
	flat_str(f, "UpdatedDate", buf);
}

static void gen_subscription(uint32_t r, struct flat *f)
{
	char buf[64];
	uint32_t i;
	int version;
	bool latest;
	sub_of_row(r, &i, &version, &latest);
	enum channel ch = channel_of(i);
	int64_t t0 = gen_ts(T_SUBSCRIPTION, latest_row(i)) - 30 * DAY_MS;
	uint64_t x = h(i, 7);

	zuora_id(T_SUBSCRIPTION, r, buf);
	flat_str(f, "Id", buf);
	flat_numbered(f, "Name", "A-S", i + 1);
	zuora_id(T_ACCOUNT, i, buf);
	flat_str(f, "AccountId", buf);
	zuora_id(T_ACCOUNT, owner_of(i, ch), buf);
	flat_str(f, "InvoiceOwnerId", buf);
	flat_str(f, "Status", !latest       ? "Expired"
			      : x % 100 < 5 ? "Cancelled"
			      : x % 100 < 8 ? "Expired"
					    : "Active");
	flat_int(f, "Version", version);
	flat_bool(f, "IsLatestVersion", latest);
	ts_format_date(t0, buf);
	flat_str(f, "TermStartDate", buf);
	ts_format_date(t0 + 365 * DAY_MS, buf);
	flat_str(f, "TermEndDate", buf);
	flat_str(f, "CreatedById", ch == CH_WEB || ch == CH_CONFLICT
					   ? FULFILLMENT_USER
					   : PICK(sales_users, x >> 8));
	ts_format_zuora(gen_ts(T_SUBSCRIPTION, r) - 3600000, buf);
	flat_str(f, "CreatedDate", buf);
	ts_format_zuora(gen_ts(T_SUBSCRIPTION, r), buf);
	flat_str(f, "UpdatedDate", buf);
	if (ch == CH_RESELLER || ch == CH_TWO_TIER || ch == CH_MSP ||
	    ch == CH_CONFLICT)
		flat_str(f, "SSPChannel__c", "Reseller");
	else if ((ch == CH_WEB || ch == CH_SALES) && (x >> 20) % 2)
		flat_str(f, "SSPChannel__c", "Non-Reseller");
}

static void gen_quote(uint32_t q, struct flat *f)
{
	char buf[128];
	uint32_t i = g.quote_sub[q];
	enum channel ch = channel_of(i);
	uint32_t owner = owner_of(i, ch);

	sf_id(T_QUOTE, q, buf);
	flat_str(f, "Id", buf);
	flat_numbered(f, "Name", "Q-", q + 1);
	flat_str(f, "zqu__Status__c", "Sent to Z-Billing");
	flat_numbered(f, "zqu__Subscription_Name__c", "A-S", i + 1);
	zuora_id(T_SUBSCRIPTION, latest_row(i), buf);
	flat_str(f, "zqu__ZuoraSubscriptionID__c", buf);
	zuora_id(T_ACCOUNT, i, buf);
	flat_str(f, "zqu__ZuoraAccountID__c", buf);
	zuora_id(T_ACCOUNT, owner, buf);
	flat_str(f, "zqu__InvoiceOwnerId__c", buf);
	account_name(owner, buf, sizeof(buf));
	flat_str(f, "zqu__InvoiceOwnerName__c", buf);
	sf_id(ID_SF_ACCOUNT, i, buf);
	flat_str(f, "zqu__Account__c", buf);
	sf_id(ID_OPPORTUNITY, q, buf);
	flat_str(f, "zqu__Opportunity__c", buf);
	if (ch == CH_TWO_TIER) {
		account_name(acct_partner(pick_partner(i, P_RESELLER, 8)), buf,
			     sizeof(buf));
		flat_str(f, "Resale_Partner__c", buf);
		account_name(owner, buf, sizeof(buf));
		flat_str(f, "Distributor__c", buf);
	} else if (ch == CH_RESELLER && q % 4 == 0) {
		/* Every fourth reseller quote names its partner only in the
		 * VP of Channel approval notes (DOMAIN.md). */
		char note[256];
		struct text t = text_at(note, sizeof(note));
		account_name(owner, buf, sizeof(buf));
		text_add(&t, "Approved: 15% partner discount for ");
		text_add(&t, buf);
		text_add(&t, " (VP of Channel).");
		flat_str(f, "Required_Approvals_From_VP_of_Channel__c", note);
	} else if (ch == CH_RESELLER || ch == CH_MSP) {
		account_name(owner, buf, sizeof(buf));
		flat_str(f, "Resale_Partner__c", buf);
	}
	ts_format_sf(gen_ts(T_QUOTE, q), buf);
	flat_str(f, "SystemModstamp", buf);
	flat_bool(f, "IsDeleted", false);
	account_name(i, buf, sizeof(buf));
	flat_str(f, "zqu__Account__r.Name", buf);
	flat_numbered(f, "zqu__Opportunity__r.Name", "Opportunity A-S", i + 1);
}

static void gen_opp_partner(uint32_t o, struct flat *f)
{
	char buf[128];
	uint32_t q = g.op_quote[o], i = g.quote_sub[q];
	enum channel ch = channel_of(i);
	uint32_t partner = ch == CH_TWO_TIER
				   ? acct_partner(pick_partner(i, P_RESELLER, 8))
				   : owner_of(i, ch);

	sf_id(T_OPP_PARTNER, o, buf);
	flat_str(f, "Id", buf);
	sf_id(ID_OPPORTUNITY, q, buf);
	flat_str(f, "OpportunityId", buf);
	sf_id(ID_SF_ACCOUNT, partner, buf);
	flat_str(f, "AccountToId", buf);
	flat_str(f, "Role", "Reseller");
	flat_bool(f, "IsPrimary", true);
	flat_bool(f, "IsDeleted", false);
	ts_format_sf(gen_ts(T_OPP_PARTNER, o), buf);
	flat_str(f, "SystemModstamp", buf);
	account_name(partner, buf, sizeof(buf));
	flat_str(f, "AccountTo.Name", buf);
}

void gen_record(enum tbl t, uint32_t i, struct flat *f)
{
	f->n = 0;
	f->used = 0;
	switch (t) {
	case T_ACCOUNT:
		gen_account(i, f);
		break;
	case T_CONTACT:
		gen_contact(i, f);
		break;
	case T_SUBSCRIPTION:
		gen_subscription(i, f);
		break;
	case T_QUOTE:
		gen_quote(i, f);
		break;
	case T_OPP_PARTNER:
		gen_opp_partner(i, f);
		break;
	default:
		break;
	}
}

/* ===== partner registry CSV ===== */

static void csv_cell(FILE *fp, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

bool gen_partners_csv(FILE *fp)
{
	char name[128], dom[64];
	fputs("name,type,zuora_account_numbers,email_domains,track\n", fp);
	for (uint32_t a = g.n; g.on && a < g.n + g.np + 2; a++) {
		uint32_t k = a - g.n;
		const char *type = "marketplace", *track = "Technology";
		if (k < g.np) {
			enum ptype p = partner_type(k);
			type = p == P_DISTRIBUTOR ? "distributor"
			       : p == P_MSP       ? "msp"
						  : "reseller";
			track = k % 3 == 0 ? "Select" : "Open";
		}
		account_name(a, name, sizeof(name));
		account_domain(a, dom, sizeof(dom));
		csv_cell(fp, name);
		fprintf(fp, ",%s,A%08u,%s,%s\n", type, a + 1, dom, track);
	}
	return !ferror(fp);
}
