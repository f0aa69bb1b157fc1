/*
 * sim_query: the ZOQL and SOQL subsets, and cursors (query locators).
 *
 *   ZOQL: select F[, F...] from Account|Contact|Subscription
 *         [where COND [and COND...]]           keywords lower-case only
 *   SOQL: SELECT F[, Rel.F...] FROM zqu__Quote__c|OpportunityPartner
 *         [WHERE COND [AND COND...]] [ORDER BY SystemModstamp|Id [ASC]]
 *         [LIMIT n]                            keywords any case
 *   COND: Field OP literal, OP one of = != <> < > <= >=
 *
 * A query runs once into a cursor (sim_cursor.c).
 */
#include "sim.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 1024

enum tok_type { TK_END, TK_IDENT, TK_STRING, TK_NUMBER, TK_COMMA, TK_OP,
		TK_PUNCT };
struct tok {
	enum tok_type t;
	char *text;
	size_t pos;
};

enum op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };
enum lit { L_STR, L_NUM, L_BOOL, L_NULL, L_DATETIME };

struct cond {
	char *field;
	enum op op;
	enum lit lt;
	char *s;
	double num;
	bool b;
	bool has_ts;
	int64_t ts;
};

struct query {
	enum api api;
	enum tbl t;
	char **fields;
	size_t nfields;
	struct cond conds[32];
	size_t nconds;
	long long limit; /* -1 = none */
};

struct parser {
	enum api api;
	const char *src;
	struct tok toks[MAX_TOKENS];
	size_t ntoks, k;
	char *err;
	size_t errlen;
	const char *sf_code;
};

/* ===== lexer ===== */

static bool lex_fail(struct parser *p, size_t pos, const char *msg)
{
	snprintf(p->err, p->errlen, "%s at position %zu", msg, pos);
	p->sf_code = "MALFORMED_QUERY";
	return false;
}

static bool lex_push(struct parser *p, enum tok_type t, char *text,
		     size_t pos)
{
	if (p->ntoks + 1 >= MAX_TOKENS) {
		free(text);
		return lex_fail(p, pos, "query too long");
	}
	p->toks[p->ntoks].t = t;
	p->toks[p->ntoks].text = text;
	p->toks[p->ntoks].pos = pos;
	p->ntoks++;
	return true;
}

static bool lex_string(struct parser *p, size_t *i)
{
	const char *s = p->src;
	struct buf b = {0};
	size_t start = *i;
	for ((*i)++; s[*i] && s[*i] != '\''; (*i)++) {
		if (s[*i] == '\\' && s[*i + 1]) {
			(*i)++;
			char c = s[*i] == 'n' ? '\n' : s[*i] == 't' ? '\t' : s[*i];
			buf_add(&b, &c, 1);
		} else {
			buf_add(&b, &s[*i], 1);
		}
	}
	if (s[*i] != '\'') {
		buf_release(&b);
		return lex_fail(p, start, "unterminated string literal");
	}
	(*i)++;
	return lex_push(p, TK_STRING, buf_detach(&b, NULL), start);
}

static bool lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = 0;
	while (s[i]) {
		size_t st = i;
		unsigned char c = (unsigned char)s[i];
		bool ok = true;
		if (isspace(c)) {
			i++;
			continue;
		}
		if (c == '\'') {
			ok = lex_string(p, &i);
		} else if (isalpha(c) || c == '_') {
			while (isalnum((unsigned char)s[i]) || s[i] == '_' ||
			       s[i] == '.')
				i++;
			ok = lex_push(p, TK_IDENT, xstrndup(s + st, i - st), st);
		} else if (isdigit(c) ||
			   (c == '-' && isdigit((unsigned char)s[i + 1]))) {
			i++;
			while (isalnum((unsigned char)s[i]) || s[i] == ':' ||
			       s[i] == '.' || s[i] == '+' || s[i] == '-')
				i++;
			ok = lex_push(p, TK_NUMBER, xstrndup(s + st, i - st), st);
		} else if (c == ',') {
			i++;
			ok = lex_push(p, TK_COMMA, xstrdup(","), st);
		} else if (strchr("=<>!", (int)c)) {
			i++;
			if (s[i] == '=' || (c == '<' && s[i] == '>'))
				i++;
			if (s[st] == '!' && i - st == 1)
				return lex_fail(p, st, "unexpected '!'");
			ok = lex_push(p, TK_OP, xstrndup(s + st, i - st), st);
		} else if (strchr("()*", (int)c)) {
			i++;
			ok = lex_push(p, TK_PUNCT, xstrndup(s + st, 1), st);
		} else {
			return lex_fail(p, st, "unexpected character");
		}
		if (!ok)
			return false;
	}
	return lex_push(p, TK_END, xstrdup(""), i);
}

/* ===== parser helpers ===== */

static struct tok *peek(struct parser *p)
{
	return &p->toks[p->k];
}

static bool fail(struct parser *p, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(struct parser *p, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	p->sf_code = code;
	return false;
}

/* Is the current token keyword kw? ZOQL demands lower case. */
static bool is_kw(struct parser *p, const char *kw, bool *bad_case)
{
	struct tok *t = peek(p);
	*bad_case = false;
	if (t->t != TK_IDENT || strcasecmp(t->text, kw) != 0)
		return false;
	if (p->api == API_ZUORA && strcmp(t->text, kw) != 0)
		*bad_case = true;
	return true;
}

static bool expect_kw(struct parser *p, const char *kw)
{
	bool bad;
	if (!is_kw(p, kw, &bad))
		return fail(p, "MALFORMED_QUERY", "expecting '%s'", kw);
	if (bad)
		return fail(p, "MALFORMED_QUERY",
			    "ZOQL keywords must be lower case: '%s'",
			    peek(p)->text);
	p->k++;
	return true;
}

static const char *const zuora_fields[3][24] = {
	{"Id", "AccountNumber", "Name", "Status", "PartnerAccount", "CrmId",
	 "SoldToId", "BillToId", "UpdatedDate", "CreatedDate", "ParentId",
	 "Batch", "Currency", "BillCycleDay", "AutoPay", "PaymentTerm",
	 "SalesRepName", "UpdatedById", "CreatedById", NULL},
	{"Id", "AccountId", "FirstName", "LastName", "WorkEmail",
	 "PersonalEmail", "Country", "State", "City", "UpdatedDate",
	 "CreatedDate", "UpdatedById", "CreatedById", NULL},
	{"Id", "Name", "AccountId", "InvoiceOwnerId", "Status", "Version",
	 "IsLatestVersion", "TermStartDate", "TermEndDate", "CreatedById",
	 "CreatedDate", "UpdatedDate", "UpdatedById", "ContractEffectiveDate",
	 "SubscriptionStartDate", "TermType", "AutoRenew", "OriginalId",
	 "PreviousSubscriptionId", "CancelledDate", "InitialTerm",
	 "RenewalTerm", NULL},
};

static const char *const sf_fields[2][24] = {
	{"Id", "Name", "IsDeleted", "SystemModstamp", "CreatedDate",
	 "LastModifiedDate", "CreatedById", "LastModifiedById", "OwnerId",
	 "zqu__Status__c", NULL},
	{"Id", "OpportunityId", "AccountToId", "Role", "IsPrimary",
	 "IsDeleted", "ReversePartnerId", "SystemModstamp", "CreatedDate",
	 "LastModifiedDate", "CreatedById", "LastModifiedById", NULL},
};

static bool ends_with_ci(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static bool field_known(enum api api, enum tbl t, const char *f)
{
	const char *const *list = api == API_ZUORA
					  ? zuora_fields[t]
					  : sf_fields[t - T_QUOTE];
	const char *dot = strchr(f, '.');
	for (; *list; list++)
		if (strcasecmp(*list, f) == 0)
			return true;
	if (data_has_key(t, f))
		return true;
	if (api == API_ZUORA)
		return !dot && (ends_with_ci(f, "__c") || ends_with_ci(f, "__QT") ||
				ends_with_ci(f, "__NS"));
	if (!dot)
		return ends_with_ci(f, "__c");
	/* Parent relationship: X__r.Field, or a standard one. */
	char rel[128];
	size_t n = (size_t)(dot - f);
	if (n == 0 || n >= sizeof(rel) || !dot[1] || strchr(dot + 1, '.'))
		return false;
	memcpy(rel, f, n);
	rel[n] = '\0';
	return ends_with_ci(rel, "__r") || !strcasecmp(rel, "AccountTo") ||
	       !strcasecmp(rel, "Opportunity") || !strcasecmp(rel, "Owner");
}

static bool unknown_field(struct parser *p, struct query *q, const char *f)
{
	if (p->api == API_ZUORA) {
		snprintf(p->err, p->errlen, "invalid field for query: %s.%s",
			 tbl_object(q->t), f);
	} else {
		snprintf(p->err, p->errlen,
			 "No such column '%s' on entity '%s'. If you are "
			 "attempting to use a custom field, be sure to append "
			 "the '__c' after the custom field name. Please "
			 "reference your WSDL or the describe call for the "
			 "appropriate names.",
			 f, tbl_object(q->t));
	}
	p->sf_code = "INVALID_FIELD";
	return false;
}

static bool sf_datetime_field(const char *f)
{
	return !strcasecmp(f, "SystemModstamp") ||
	       !strcasecmp(f, "CreatedDate") ||
	       !strcasecmp(f, "LastModifiedDate");
}

/* ===== conditions ===== */

static bool parse_op(struct parser *p, enum op *op)
{
	struct tok *t = peek(p);
	static const struct {
		const char *s;
		enum op op;
	} ops[] = {{"=", OP_EQ}, {"!=", OP_NE}, {"<>", OP_NE}, {"<", OP_LT},
		   {">", OP_GT}, {"<=", OP_LE}, {">=", OP_GE}};
	if (t->t == TK_OP)
		for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (!strcmp(ops[k].s, t->text)) {
				*op = ops[k].op;
				p->k++;
				return true;
			}
	if (t->t == TK_IDENT)
		return fail(p, "MALFORMED_QUERY",
			    "unsupported operator '%s' (simulator supports "
			    "= != < > <= >=)", t->text);
	return fail(p, "MALFORMED_QUERY", "expecting an operator near '%s'",
		    t->text);
}

static bool parse_literal(struct parser *p, struct cond *c)
{
	struct tok *t = peek(p);
	char *end;

	if (t->t == TK_STRING) {
		if (p->api == API_SF && sf_datetime_field(c->field))
			return fail(p, "INVALID_FIELD",
				    "value of filter criterion for field '%s' "
				    "must be of type dateTime and should not be "
				    "enclosed in quotes", c->field);
		c->lt = L_STR;
		c->has_ts = ts_parse(t->text, &c->ts);
	} else if (t->t == TK_IDENT && (!strcasecmp(t->text, "true") ||
					!strcasecmp(t->text, "false"))) {
		c->lt = L_BOOL;
		c->b = !strcasecmp(t->text, "true");
	} else if (t->t == TK_IDENT && !strcasecmp(t->text, "null")) {
		c->lt = L_NULL;
	} else if (t->t == TK_NUMBER && ts_parse(t->text, &c->ts)) {
		if (p->api == API_ZUORA)
			return fail(p, "MALFORMED_QUERY",
				    "date and datetime values must be quoted: "
				    "%s", t->text);
		c->lt = L_DATETIME;
		c->has_ts = true;
	} else if (t->t == TK_NUMBER) {
		c->lt = L_NUM;
		c->num = strtod(t->text, &end);
		if (*end || !isfinite(c->num))
			return fail(p, "MALFORMED_QUERY", "bad literal '%s'",
				    t->text);
	} else {
		return fail(p, "MALFORMED_QUERY", "expecting a value near '%s'",
			    t->text[0] ? t->text : "end of query");
	}
	c->s = xstrdup(t->text);
	p->k++;
	return true;
}

static bool parse_cond(struct parser *p, struct query *q)
{
	struct tok *t = peek(p);
	struct cond *c;

	if (q->nconds >= sizeof(q->conds) / sizeof(q->conds[0]))
		return fail(p, "MALFORMED_QUERY", "%s", "too many conditions");
	if (t->t == TK_PUNCT && !strcmp(t->text, "("))
		return fail(p, "MALFORMED_QUERY", "%s",
			    "parentheses are not supported by the simulator");
	if (t->t != TK_IDENT)
		return fail(p, "MALFORMED_QUERY", "expecting a field near '%s'",
			    t->text);
	if (!field_known(p->api, q->t, t->text))
		return unknown_field(p, q, t->text);
	c = &q->conds[q->nconds++];
	c->field = xstrdup(t->text);
	p->k++;
	return parse_op(p, &c->op) && parse_literal(p, c);
}

/* ===== statements ===== */

static bool parse_fields(struct parser *p, size_t *first)
{
	*first = p->k;
	for (;;) {
		struct tok *t = peek(p);
		if (t->t == TK_PUNCT && !strcmp(t->text, "*"))
			return fail(p, "MALFORMED_QUERY", "%s",
				    "'*' is not supported; list the fields");
		if (t->t != TK_IDENT)
			return fail(p, "MALFORMED_QUERY",
				    "expecting a field name near '%s'",
				    t->text[0] ? t->text : "end of query");
		p->k++;
		if (peek(p)->t != TK_COMMA)
			return true;
		p->k++;
	}
}

static bool parse_object(struct parser *p, struct query *q)
{
	struct tok *t = peek(p);
	int lo = p->api == API_ZUORA ? T_ACCOUNT : T_QUOTE;
	int hi = p->api == API_ZUORA ? T_SUBSCRIPTION : T_OPP_PARTNER;
	for (int k = lo; t->t == TK_IDENT && k <= hi; k++) {
		if (!strcasecmp(t->text, tbl_object((enum tbl)k))) {
			q->t = (enum tbl)k;
			p->k++;
			return true;
		}
	}
	if (p->api == API_SF)
		return fail(p, "INVALID_TYPE",
			    "sObject type '%s' is not supported. If you are "
			    "attempting to use a custom object, be sure to "
			    "append the '__c' after the entity name.", t->text);
	return fail(p, "MALFORMED_QUERY", "unsupported object '%s'", t->text);
}

static bool add_field(struct parser *p, struct query *q, const char *f)
{
	if (!field_known(p->api, q->t, f))
		return unknown_field(p, q, f);
	for (size_t k = 0; k < q->nfields; k++)
		if (!strcasecmp(q->fields[k], f))
			return true;
	q->fields = xrealloc(q->fields, (q->nfields + 1) * sizeof(char *));
	q->fields[q->nfields++] = xstrdup(f);
	return true;
}

static bool parse_tail_sf(struct parser *p, struct query *q)
{
	bool bad;
	if (is_kw(p, "order", &bad)) {
		p->k++;
		if (!expect_kw(p, "by"))
			return false;
		struct tok *t = peek(p);
		if (t->t != TK_IDENT || (strcasecmp(t->text, "SystemModstamp") &&
					 strcasecmp(t->text, "Id")))
			return fail(p, "MALFORMED_QUERY",
				    "simulator supports ORDER BY SystemModstamp "
				    "only, got '%s'", t->text);
		p->k++;
		if (is_kw(p, "asc", &bad))
			p->k++;
	}
	if (is_kw(p, "limit", &bad)) {
		p->k++;
		struct tok *t = peek(p);
		char *end;
		long long n = t->t == TK_NUMBER ? strtoll(t->text, &end, 10) : -1;
		if (t->t != TK_NUMBER || *end || n < 0)
			return fail(p, "MALFORMED_QUERY", "bad LIMIT '%s'",
				    t->text);
		q->limit = n;
		p->k++;
	}
	return true;
}

static bool parse_stmt(struct parser *p, struct query *q)
{
	size_t first;
	bool bad;

	if (!lex(p) || !expect_kw(p, "select") || !parse_fields(p, &first) ||
	    !expect_kw(p, "from") || !parse_object(p, q))
		return false;
	for (size_t k = first; p->toks[k].t != TK_END; k++) {
		if (p->toks[k].t == TK_IDENT && !add_field(p, q, p->toks[k].text))
			return false;
		if (p->toks[k + 1].t != TK_COMMA)
			break;
		k++;
	}
	if (is_kw(p, "where", &bad)) {
		if (!expect_kw(p, "where") || !parse_cond(p, q))
			return false;
		while (is_kw(p, "and", &bad))
			if (!expect_kw(p, "and") || !parse_cond(p, q))
				return false;
		if (is_kw(p, "or", &bad))
			return fail(p, "MALFORMED_QUERY", "%s",
				    "'or' is not supported by the simulator");
	}
	if (p->api == API_SF && !parse_tail_sf(p, q))
		return false;
	if (peek(p)->t != TK_END)
		return fail(p, "MALFORMED_QUERY", "unexpected token '%s'",
			    peek(p)->text);
	return true;
}

static struct query *parse(enum api api, const char *src, char *err,
			   size_t errlen, const char **sf_code)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	struct query *q = xcalloc(1, sizeof(*q));
	bool ok;

	p->api = api;
	p->src = src;
	p->err = err;
	p->errlen = errlen;
	q->api = api;
	q->limit = -1;
	ok = strlen(src) <= 65536 ? parse_stmt(p, q)
				  : fail(p, "MALFORMED_QUERY", "%s",
					 "query too long");
	if (sf_code)
		*sf_code = p->sf_code;
	for (size_t k = 0; k < p->ntoks; k++)
		free(p->toks[k].text);
	free(p);
	if (!ok) {
		query_free(q);
		return NULL;
	}
	return q;
}

struct query *zoql_parse(const char *q, char *err, size_t errlen)
{
	return parse(API_ZUORA, q, err, errlen, NULL);
}

struct query *soql_parse(const char *q, char *err, size_t errlen,
			 const char **sf_code)
{
	return parse(API_SF, q, err, errlen, sf_code);
}

void query_free(struct query *q)
{
	if (!q)
		return;
	for (size_t k = 0; k < q->nfields; k++)
		free(q->fields[k]);
	free(q->fields);
	for (size_t k = 0; k < q->nconds; k++) {
		free(q->conds[k].field);
		free(q->conds[k].s);
	}
	free(q);
}

/* ===== evaluation ===== */

static int sign(double d)
{
	return d < 0 ? -1 : d > 0 ? 1 : 0;
}

/* Compare a field value with a literal; false when incomparable. */
static bool compare(const struct val *v, const struct cond *c, int *cmp)
{
	int64_t ts;
	char *end;

	switch (c->lt) {
	case L_BOOL:
		if (v->t != V_BOOL)
			return false;
		*cmp = (v->i != 0) - (c->b ? 1 : 0);
		return true;
	case L_NUM:
		if (v->t == V_INT)
			*cmp = sign((double)v->i - c->num);
		else if (v->t == V_JSON && json_is_number(v->j))
			*cmp = sign(json_number_value(v->j) - c->num);
		else if (v->t == V_STR)
			*cmp = sign(strtod(v->s, &end) - c->num);
		else
			return false;
		return v->t != V_STR || (*v->s && !*end);
	case L_DATETIME:
		if (v->t != V_STR || !ts_parse(v->s, &ts))
			return false;
		*cmp = ts < c->ts ? -1 : ts > c->ts;
		return true;
	case L_STR:
		if (v->t == V_BOOL) {
			*cmp = strcasecmp(v->i ? "true" : "false", c->s);
			return true;
		}
		if (v->t == V_INT) {
			*cmp = sign((double)v->i - strtod(c->s, &end));
			return *c->s && !*end;
		}
		if (v->t != V_STR)
			return false;
		if (c->has_ts && ts_parse(v->s, &ts))
			*cmp = ts < c->ts ? -1 : ts > c->ts;
		else
			*cmp = strcmp(v->s, c->s);
		return true;
	case L_NULL:
		break;
	}
	return false;
}

static bool cond_match(const struct cond *c, const struct rec *r)
{
	struct val v;
	int cmp = 0;
	bool present = rec_get(r, c->field, &v) && v.t != V_NULL;

	if (c->lt == L_NULL)
		return c->op == OP_EQ ? !present : c->op == OP_NE && present;
	if (!present || !compare(&v, c, &cmp))
		return c->op == OP_NE; /* like SOQL: != also matches nulls */
	switch (c->op) {
	case OP_EQ:
		return cmp == 0;
	case OP_NE:
		return cmp != 0;
	case OP_LT:
		return cmp < 0;
	case OP_GT:
		return cmp > 0;
	case OP_LE:
		return cmp <= 0;
	case OP_GE:
		return cmp >= 0;
	}
	return false;
}

/* ===== accessors for cursors ===== */

bool query_match(const struct query *q, const struct rec *r)
{
	for (size_t k = 0; k < q->nconds; k++)
		if (!cond_match(&q->conds[k], r))
			return false;
	return true;
}

bool query_has_conds(const struct query *q)
{
	return q->nconds > 0;
}

int64_t query_ts_floor(const struct query *q, const char *field)
{
	int64_t floor = INT64_MIN;

	for (size_t k = 0; k < q->nconds; k++) {
		const struct cond *c = &q->conds[k];
		if (c->has_ts && (c->op == OP_GE || c->op == OP_GT) &&
		    strcasecmp(c->field, field) == 0 && c->ts > floor)
			floor = c->ts;
	}
	return floor;
}

enum tbl query_table(const struct query *q)
{
	return q->t;
}

long long query_limit(const struct query *q)
{
	return q->limit;
}

size_t query_nfields(const struct query *q)
{
	return q->nfields;
}

const char *query_field(const struct query *q, size_t k)
{
	return q->fields[k];
}
