#pragma once
/*
 * upstream-sim: a Zuora + Salesforce simulator for resellerd's tests.
 *
 * Shared declarations. The simulator is a test tool, not part of the
 * service, so it keeps its own small helpers instead of linking lib/.
 *
 * Files:
 *   sim.c        main, CLI, MHD daemon, routing, response helpers
 *   sim_util.c   allocation, buffers, timestamps, ids, hash map
 *   sim_data.c   the dataset: tables of generated + JSON rows
 *   sim_gen.c    the synthetic dataset generator (records on demand)
 *   sim_query.c  ZOQL and SOQL subsets
 *   sim_cursor.c query results and paging (query locators)
 *   sim_render.c query page records as JSON text
 *   sim_zuora.c  Zuora endpoints
 *   sim_sf.c     Salesforce endpoints
 *   sim_ctl.c    /_sim/ control API, faults, stats, tokens
 *
 * Locking: one global mutex (sim.lock) protects the dataset, cursors,
 * tokens, faults and stats. Handlers take it for their whole (short) run
 * and never sleep while holding it.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ===== util (sim_util.c) ===== */

/* Allocation failure aborts (inputs are capped, so clients can't cause it). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Growable byte buffer; p is always NUL-terminated once non-empty. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};
void buf_add(struct buf *b, const char *s, size_t n);
void buf_adds(struct buf *b, const char *s);
/* Make room for n more bytes (one allocation instead of several). */
void buf_reserve(struct buf *b, size_t n);
/* JSON text exactly as json_dumps(JSON_COMPACT) writes it: a string
 * literal (s valid UTF-8), an integer. */
void buf_json_str(struct buf *b, const char *s);
void buf_json_int(struct buf *b, long long v);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Caller owns the returned string (never NULL); b is reset. */
char *buf_detach(struct buf *b, size_t *len);
void buf_release(struct buf *b);

/* ISO 8601 date/datetime ("Z", "+hh:mm", "+hhmm", optional .fff) to epoch ms. */
bool ts_parse(const char *s, int64_t *ms);
void ts_format_zuora(int64_t ms, char out[40]);  /* 2024-01-02T03:04:05Z */
void ts_format_sf(int64_t ms, char out[40]);     /* ...05.000+0000 */
void ts_format_date(int64_t ms, char out[16]);   /* 2024-01-02 */
int64_t now_ms(void);

/* Random lower-case hex (thread-safe); out must hold nhex + 1 bytes. */
void rand_hex(char *out, size_t nhex);
uint64_t mix64(uint64_t x);
/* Base62 of a 64-bit value, exactly 12 chars (+ NUL). */
void enc62(uint64_t v, char out[13]);
bool dec62(const char *s, uint64_t *v);

/* Sleep in small steps; returns false early when the server is stopping. */
bool sleep_ms_interruptible(int64_t ms);
extern atomic_bool sim_stopping;

/* application/x-www-form-urlencoded: look up key in body; caller frees. */
char *form_get(const char *body, size_t len, const char *key);

/* Read a file completely (capped); caller frees. NULL on error. */
char *read_file_all(const char *path, size_t cap, size_t *len);

/* String-keyed hash map of owned json_t references (keys copied). */
struct jmap_ent {
	char *key;
	json_t *val;
};
struct jmap {
	struct jmap_ent *e;
	size_t cap;
	size_t len;
};
json_t *jmap_get(const struct jmap *m, const char *key);
/* Steals val; drops the previous value of key, if any. */
void jmap_put(struct jmap *m, const char *key, json_t *val);
void jmap_clear(struct jmap *m);

/* ===== values and records (sim_data.c) ===== */

enum vtype { V_NULL = 0, V_STR, V_BOOL, V_INT, V_JSON };

/* A borrowed field value. */
struct val {
	enum vtype t;
	const char *s;
	long long i; /* V_INT value, or V_BOOL 0/1 */
	json_t *j;   /* V_JSON (number, object, ...) */
};

#define FLAT_MAX 32
/* A generated record: key/value pairs whose strings live in buf. */
struct flat {
	int n;
	const char *key[FLAT_MAX];
	struct val v[FLAT_MAX];
	char buf[3072];
	size_t used;
};
void flat_str(struct flat *f, const char *key, const char *s);
void flat_bool(struct flat *f, const char *key, bool b);
void flat_int(struct flat *f, const char *key, long long i);

/* One row, either a JSON object (j) or a generated flat record (f). */
struct rec {
	json_t *j;
	const struct flat *f;
};
/* Field lookup, case-insensitive; "Rel.Field" also looks in a nested object.
 * Returns false (and V_NULL) when absent; JSON null is V_NULL. */
bool rec_get(const struct rec *r, const char *field, struct val *out);
/* Where a field was last found in a generated record: repeated lookups of
 * one field over many rows mostly cost a pointer compare. Zero-initialise. */
struct rec_hint {
	int slot;
	const char *key;
};
/* As rec_get, and *key gets the record's own spelling of field (for
 * output; NULL when absent; borrowed like the record). hint may be NULL. */
bool rec_find(const struct rec *r, const char *field, struct rec_hint *hint,
	      const char **key, struct val *out);
/* A new json_t for a value (json_null for V_NULL). */
json_t *val_json(const struct val *v);
/* A new JSON object with every field of the record. */
json_t *rec_to_json(const struct rec *r);
/* Convenience: string value or NULL. */
const char *rec_str(const struct rec *r, const char *field);

enum tbl {
	T_ACCOUNT = 0,
	T_CONTACT,
	T_SUBSCRIPTION,
	T_QUOTE,
	T_OPP_PARTNER,
	T_COUNT
};
const char *tbl_object(enum tbl t);   /* Account, ..., zqu__Quote__c */
const char *tbl_ts_field(enum tbl t); /* UpdatedDate or SystemModstamp */

/* A reference to a row that stays valid after the dataset changes. */
struct rowref {
	uint32_t gen; /* generated index, when j == NULL */
	json_t *j;    /* owned reference when set */
};

/* Iterate a table in (timestamp, Id) order. Call with sim.lock held.
 * fn returns false to stop. */
typedef bool (*row_fn)(void *cls, const struct rowref *ref,
		       const struct rec *r);
void data_scan(enum tbl t, row_fn fn, void *cls);
/* As data_scan, skipping the generated rows whose timestamp (gen_ts) is
 * below floor: an incremental query (UpdatedDate >= X) over a generated
 * million rows reads only the tail instead of generating them all.
 * Without load, generated rows are not built (r->f is NULL, r->j too):
 * for a caller that needs only the row references. */
void data_scan_from(enum tbl t, int64_t floor, bool load, row_fn fn,
		    void *cls);
/* Materialise a row reference; flat is scratch space for generated rows. */
void data_load(enum tbl t, const struct rowref *ref, struct flat *scratch,
	       struct rec *out);
/* Lookups; results are borrowed until the lock is released. */
bool data_find_id(enum tbl t, const char *id, struct flat *scratch,
		  struct rec *out);
bool data_find_sub_latest(const char *key, struct flat *scratch,
			  struct rec *out);
bool data_find_account(const char *key, struct flat *scratch,
		       struct rec *out);
/* Is field a key some stored row of t has? */
bool data_has_key(enum tbl t, const char *field);
/* Load/merge a dataset document ({"zuora":{...},"salesforce":{...}}).
 * replace drops everything first. Errors go to err. */
bool data_merge(json_t *doc, bool replace, char *err, size_t errlen);
/* Write the whole dataset as one JSON document. */
bool data_dump(FILE *fp);
void data_free(void);
size_t data_count(enum tbl t);

/* ===== generator (sim_gen.c) ===== */

bool gen_init(uint32_t n_subs, uint64_t seed);
void gen_free(void);
uint32_t gen_count(enum tbl t);
int64_t gen_ts(enum tbl t, uint32_t i);
void gen_id(enum tbl t, uint32_t i, char out[40]);
bool gen_find_id(enum tbl t, const char *id, uint32_t *i);
void gen_record(enum tbl t, uint32_t i, struct flat *f);
/* The row of the latest version of subscription "A-S00000001". */
bool gen_find_sub_number(const char *number, uint32_t *row);
bool gen_find_account_number(const char *number, uint32_t *row);
bool gen_partners_csv(FILE *fp);

/* ===== queries (sim_query.c) and cursors (sim_cursor.c) ===== */

enum api { API_ZUORA = 0, API_SF };

struct query;
/* Parse; on error returns NULL and fills err (and *sf_code for SOQL). */
struct query *zoql_parse(const char *q, char *err, size_t errlen);
struct query *soql_parse(const char *q, char *err, size_t errlen,
			 const char **sf_code);
void query_free(struct query *q);
bool query_match(const struct query *q, const struct rec *r);
/* Does query_match look at the row at all (has the query conditions)? */
bool query_has_conds(const struct query *q);
enum tbl query_table(const struct query *q);
long long query_limit(const struct query *q); /* -1 = no LIMIT */
/* The largest X of the conditions "field >= X" or "field > X" (datetime
 * literals; conditions are ANDed), or INT64_MIN when there is none. */
int64_t query_ts_floor(const struct query *q, const char *field);
size_t query_nfields(const struct query *q);
const char *query_field(const struct query *q, size_t k);

/* Run a query into a new cursor; returns the cursor id (static storage in
 * the cursor). Call with sim.lock held. */
struct cursor;
struct cursor *cursor_run(struct query *q, enum api api, const char *sfver);
/* Append rows [off, off+n) of a cursor to out as a JSON array. */
void cursor_page(struct cursor *c, size_t off, size_t n, struct buf *out);
size_t cursor_total(const struct cursor *c);
size_t cursor_batch(const struct cursor *c);
void cursor_set_batch(struct cursor *c, size_t batch);
const char *cursor_id(const struct cursor *c);
/* Find by id; NULL when unknown or expired (expired ones are freed). */
struct cursor *cursor_find(const char *id, enum api api);
void cursor_free_all(void);

/* ===== page rendering (sim_render.c) ===== */

/* How a query's rows are written as JSON (see sim_render.c). The plan
 * borrows q's field names: free it before q. render_free(NULL) is a no-op. */
struct render;
struct render *render_new(const struct query *q, enum api api, enum tbl t,
			  const char *sfver);
void render_free(struct render *rd);
/* Append row r as a JSON object, exactly as json_dumps(JSON_COMPACT) wrote
 * the jansson object the simulator used to build for it. */
void render_row(struct render *rd, const struct rec *r, struct buf *out);

/* ===== HTTP plumbing shared by handlers (sim.c) ===== */

#define SIM_MAX_HEADERS 16

struct req {
	void *conn; /* struct MHD_Connection * */
	const char *method;
	const char *url;
	const char *body;
	size_t body_len;
	const char *request_id; /* Zuora-Request-Id of this request */
};

struct resp {
	unsigned status;
	char *body; /* owned, malloc'd */
	size_t len;
	const char *ctype;
	int nh;
	char *hk[SIM_MAX_HEADERS];
	char *hv[SIM_MAX_HEADERS];
};

const char *req_header(const struct req *r, const char *name);
const char *req_arg(const struct req *r, const char *name);
void resp_header(struct resp *o, const char *k, const char *v);
/* Serialise and decref j into o. */
void resp_json(struct resp *o, unsigned status, json_t *j);
/* A JSON body already written as text: takes b's storage (b is reset). */
void resp_json_buf(struct resp *o, unsigned status, struct buf *b);
void resp_text(struct resp *o, unsigned status, const char *ctype,
	       const char *s);

/* ===== configuration and global state ===== */

struct sim_config {
	char bind[64];
	unsigned port;
	char base_url[96];
	char *zuora_id;
	char *zuora_secret;
	char *sf_id;
	char *sf_secret;
	int64_t token_ttl;      /* seconds */
	int64_t sf_session_ttl; /* seconds */
	int64_t locator_ttl;    /* seconds */
	unsigned sf_min_batch;
	bool sf_no_query_all;   /* --sf-no-query-all: /queryAll answers 404 */
	char *tls_cert;         /* PEM (--tls-cert); NULL: plain http */
	char *tls_key;          /* PEM (--tls-key) */
	char *sf_instance_url;  /* --sf-instance-url; NULL: base_url */
};

struct sim_state {
	pthread_mutex_t lock;
	struct sim_config cfg;
};
extern struct sim_state sim;

/* ===== endpoints ===== */
void zuora_token(const struct req *r, struct resp *o);
void zuora_query(const struct req *r, struct resp *o);
void zuora_query_more(const struct req *r, struct resp *o);
void zuora_get_subscription(const struct req *r, struct resp *o);
void zuora_get_account(const struct req *r, struct resp *o);
void sf_token(const struct req *r, struct resp *o);
void sf_query(const struct req *r, struct resp *o);
void sf_query_more(const struct req *r, struct resp *o);

/* ===== control, faults, stats, tokens (sim_ctl.c) ===== */
void ctl_fault(const struct req *r, struct resp *o);
void ctl_faults_list(const struct req *r, struct resp *o);
void ctl_reset(const struct req *r, struct resp *o);
void ctl_stats(const struct req *r, struct resp *o);
void ctl_data(const struct req *r, struct resp *o);
void ctl_expire_tokens(const struct req *r, struct resp *o);

enum fault_kind {
	F_NONE = 0,
	F_STATUS,
	F_RETRY_AFTER,
	F_GARBAGE,
	F_TRUNCATED,
	F_OVERSIZED,
	F_DRIP,
	F_STALL,
	F_EXPIRE_TOKENS,
	F_REDIRECT,
	F_ZUORA_SUCCESS_FALSE
};
struct fault {
	enum fault_kind kind;
	char path_prefix[256];
	char method[16];
	unsigned status;
	long retry_after; /* seconds, -1 = no header */
	long count;       /* -1 = unlimited */
	uint64_t bytes;
	long seconds;
	long code;
	bool gu_shape; /* zuora_success_false: {"Success":false,"Errors":[...]} */
};
/* Take the first fault matching method/path (decrementing its count). */
bool fault_take(const char *method, const char *path, struct fault *out);
/* Count a request on arrival (so a stalled request is visible at once),
 * and its status when the response is queued. */
void stats_request(const char *method, const char *route, const char *path,
		   const char *body, size_t len);
void stats_status(const char *path, unsigned status);
/* Tokens. Each issue returns a new token string in out. */
void token_issue(enum api api, char *out, size_t outlen, int64_t ttl_s);
bool token_valid(enum api api, const char *bearer);
void tokens_expire(int which); /* bit 1 zuora, bit 2 salesforce */
unsigned long sf_api_usage_bump(void);
