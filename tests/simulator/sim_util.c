/*
 * sim_util: allocation, buffers, timestamps, random ids, a hash map.
 */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

atomic_bool sim_stopping;

/* ===== allocation ===== */

static void oom(void)
{
	fputs("upstream-sim: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ===== buffers ===== */

void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_reserve(struct buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = b->len + n + 1;
		b->p = xrealloc(b->p, b->cap);
		b->p[b->len] = '\0';
	}
}

/* Does a JSON string escape c? (NUL: the end of a C string.) */
static bool json_escaped(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/*
 * JSON text, written by hand for the query pages: a page is built from
 * known record fields, and building a jansson tree per row, dumping it and
 * freeing it was the simulator's main CPU cost. The output is byte for
 * byte what json_dumps(JSON_COMPACT) writes: '"', '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX in upper case), '/'
 * and non-ASCII bytes as they are. s must be valid UTF-8, as every string
 * jansson accepted or the generator wrote is.
 */
void buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";

	buf_add(b, "\"", 1);
	for (;;) {
		const char *run = s, *short_esc;
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};
		unsigned char c;

		while (!json_escaped((unsigned char)*s))
			s++;
		buf_add(b, run, (size_t)(s - run)); /* mostly the whole string */
		c = (unsigned char)*s++;
		if (!c)
			break;
		short_esc = memchr(from, c, sizeof(from) - 1);
		if (short_esc) {
			esc[1] = to[short_esc - from];
			buf_add(b, esc, 2);
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
		}
	}
	buf_add(b, "\"", 1);
}

void buf_json_int(struct buf *b, long long v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
				     : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->p ? b->p : xstrdup("");
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void buf_release(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ===== timestamps ===== */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int k = 0; k < n; k++) {
		if (!isdigit((unsigned char)s[k]))
			return false;
		v = v * 10 + (s[k] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool parse_offset(const char *p, int64_t *off_ms)
{
	int hh, mm;
	int sign = 1;

	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' && ((*off_ms = 0), true);
	if (*p != '+' && *p != '-')
		return false;
	if (*p == '-')
		sign = -1;
	p++;
	if (!digits(p, 2, &hh))
		return false;
	p += 2;
	if (*p == ':')
		p++;
	if (!digits(p, 2, &mm) || p[2] != '\0' || hh > 23 || mm > 59)
		return false;
	*off_ms = sign * ((int64_t)hh * 3600 + mm * 60) * 1000;
	return true;
}

bool ts_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
	int64_t off = 0;
	const char *p = s;

	if (!s || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !digits(p + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	p += 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (!digits(p + 1, 2, &h) || p[3] != ':' ||
		    !digits(p + 4, 2, &mi) || p[6] != ':' ||
		    !digits(p + 7, 2, &se))
			return false;
		if (h > 23 || mi > 59 || se > 60)
			return false;
		p += 9;
		if (*p == '.') {
			int n = 0;
			p++;
			while (isdigit((unsigned char)*p)) {
				if (n < 3)
					frac = frac * 10 + (*p - '0');
				n++;
				p++;
			}
			if (n == 0)
				return false;
			for (; n < 3; n++)
				frac *= 10;
		}
		if (*p && !parse_offset(p, &off))
			return false;
	} else if (*p != '\0') {
		return false;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
	       1000) + frac - off;
	return true;
}

/* The civil date of a day count since 1970-01-01 (Howard Hinnant). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put_digits(char *p, int v, int n)
{
	for (int k = n - 1; k >= 0; k--, v /= 10)
		p[k] = (char)('0' + v % 10);
	return p + n;
}

/*
 * "YYYY-MM-DDTHH:MM:SS" (UTC) into out[20], the milliseconds into
 * *millis. Written by hand: the generator formats a few timestamps per
 * row, and gmtime_r + strftime were a visible part of its cost. Years
 * 0000-9999, as strftime's %Y wrote the generator's years.
 */
static void ts_civil(int64_t ms, char out[20], int *millis)
{
	int64_t secs = ms / 1000, rem = ms % 1000, days, sod;
	int y, mo, d;
	char *p = out;

	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, mo, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (int)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (int)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (int)(sod % 60), 2);
	*p = '\0';
	*millis = (int)rem;
}

void ts_format_zuora(int64_t ms, char out[40])
{
	int millis;
	ts_civil(ms, out, &millis);
	memcpy(out + 19, "Z", 2);
}

void ts_format_sf(int64_t ms, char out[40])
{
	int millis;
	ts_civil(ms, out, &millis);
	out[19] = '.';
	put_digits(out + 20, millis, 3);
	memcpy(out + 23, "+0000", 6);
}

void ts_format_date(int64_t ms, char out[16])
{
	char full[20];
	int millis;
	ts_civil(ms, full, &millis);
	memcpy(out, full, 10);
	out[10] = '\0';
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ===== random and ids ===== */

void rand_hex(char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t nbytes = (nhex + 1) / 2;

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
		/* Never expected; fall back to a time-seeded mix. */
		uint64_t x = (uint64_t)now_ms();
		for (size_t k = 0; k < nbytes; k++) {
			x = mix64(x + k);
			raw[k] = (unsigned char)x;
		}
	}
	for (size_t k = 0; k < nhex && k / 2 < nbytes; k++)
		out[k] = hex[(k % 2 ? raw[k / 2] : raw[k / 2] >> 4) & 15];
	out[nhex] = '\0';
}

uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static const char b62[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void enc62(uint64_t v, char out[13])
{
	for (int k = 11; k >= 0; k--) {
		out[k] = b62[v % 62];
		v /= 62;
	}
	out[12] = '\0';
}

bool dec62(const char *s, uint64_t *v)
{
	uint64_t acc = 0;
	for (int k = 0; k < 12; k++) {
		const char *p = s[k] ? strchr(b62, s[k]) : NULL;
		if (!p)
			return false;
		uint64_t digit = (uint64_t)(p - b62);
		if (acc > (UINT64_MAX - digit) / 62)
			return false;
		acc = acc * 62 + digit;
	}
	if (s[12] != '\0')
		return false;
	*v = acc;
	return true;
}

bool sleep_ms_interruptible(int64_t ms)
{
	while (ms > 0) {
		if (atomic_load(&sim_stopping))
			return false;
		int64_t step = ms < 100 ? ms : 100;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !atomic_load(&sim_stopping);
}

/* ===== forms and files ===== */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '+') {
			out[o++] = ' ';
		} else if (s[k] == '%' && k + 2 < n && hexval(s[k + 1]) >= 0 &&
			   hexval(s[k + 2]) >= 0) {
			out[o++] = (char)(hexval(s[k + 1]) * 16 +
					  hexval(s[k + 2]));
			k += 2;
		} else {
			out[o++] = s[k];
		}
	}
	out[o] = '\0';
	return out;
}

char *form_get(const char *body, size_t len, const char *key)
{
	size_t k = 0;

	while (body && k < len) {
		size_t end = k;
		while (end < len && body[end] != '&')
			end++;
		const char *eq = memchr(body + k, '=', end - k);
		if (eq) {
			size_t nlen = (size_t)(eq - (body + k));
			char *name = url_decode(body + k, nlen);
			bool hit = strcmp(name, key) == 0;
			free(name);
			if (hit)
				return url_decode(eq + 1,
						  end - (size_t)(eq + 1 - body));
		}
		k = end + 1;
	}
	return NULL;
}

char *read_file_all(const char *path, size_t cap, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = {0};
	char chunk[65536];
	size_t n;

	if (!fp)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > cap) {
			buf_release(&b);
			fclose(fp);
			errno = EFBIG;
			return NULL;
		}
		buf_add(&b, chunk, n);
	}
	fclose(fp);
	return buf_detach(&b, len);
}

/* ===== jmap: open addressing, linear probing ===== */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct jmap_ent *jmap_slot(const struct jmap *m, const char *key)
{
	size_t mask = m->cap - 1;
	size_t k = (size_t)str_hash(key) & mask;
	while (m->e[k].key && strcmp(m->e[k].key, key) != 0)
		k = (k + 1) & mask;
	return &m->e[k];
}

json_t *jmap_get(const struct jmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	return jmap_slot(m, key)->val;
}

static void jmap_grow(struct jmap *m)
{
	struct jmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->e = xcalloc(m->cap, sizeof(*m->e));
	m->len = 0;
	for (size_t k = 0; k < old.cap; k++) {
		if (!old.e[k].key)
			continue;
		*jmap_slot(m, old.e[k].key) = old.e[k];
		m->len++;
	}
	free(old.e);
}

void jmap_put(struct jmap *m, const char *key, json_t *val)
{
	if ((m->len + 1) * 2 > m->cap)
		jmap_grow(m);
	struct jmap_ent *e = jmap_slot(m, key);
	if (e->key) {
		json_decref(e->val);
		e->val = val;
		return;
	}
	e->key = xstrdup(key);
	e->val = val;
	m->len++;
}

void jmap_clear(struct jmap *m)
{
	for (size_t k = 0; k < m->cap; k++) {
		free(m->e[k].key);
		json_decref(m->e[k].val);
	}
	free(m->e);
	m->e = NULL;
	m->cap = m->len = 0;
}
