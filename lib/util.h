#pragma once
/*
 * util: allocation that dies on OOM (git's xmalloc; every input is capped,
 * so a client cannot drive us there), a bounded growable buffer (curl's
 * dynbuf with its "toobig" cap), and small string and time helpers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocate or die. Never return NULL. Free with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Print "fatal: ..." to stderr and exit(1). */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

/*
 * A growable byte buffer with a hard cap. buf is always NUL-terminated
 * (when len > 0 or after any append). An append past the cap fails with
 * false and leaves the buffer as it was; the caller decides (413, abort).
 */
struct buf {
	char *ptr;
	size_t len;
	size_t cap;    /* allocated */
	size_t toobig; /* maximum len */
};

void buf_init(struct buf *b, size_t toobig);
bool buf_append(struct buf *b, const void *data, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Hand the storage to the caller (who frees it with free()); b is reset. */
char *buf_detach(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
void buf_release(struct buf *b);

/* Case-insensitive ASCII comparisons; NULL-safe (NULL equals only NULL). */
bool str_ieq(const char *a, const char *b);
bool str_eq(const char *a, const char *b);
/* NULL or "" */
bool str_empty(const char *s);
/* Copy at most size-1 bytes and NUL-terminate; returns strlen(src). */
size_t strlcpy_(char *dst, const char *src, size_t size);

/* Parse a whole decimal integer in [min, max]; false on any junk. */
bool parse_long(const char *s, long min, long max, long *out);

/* Monotonic and wall clocks. */
uint64_t now_ns(void);
double now_unix(void);

/*
 * Decimal digits of v into out (NUL-terminated), left-padded with zeros
 * to at least width digits (width <= 20); returns the length. For hot
 * paths where snprintf's set-up cost shows (one request log line).
 */
size_t u64_digits(uint64_t v, unsigned width, char out[21]);

/* v thousandths as a decimal with three places ("1234" -> "1.234") into
 * out (NUL-terminated); returns the length. */
size_t u64_thousandths(uint64_t v, char out[26]);

/*
 * SHA-256 of len bytes at data into out. The digest implementation is
 * fetched from OpenSSL once per process: EVP_sha256() looked it up again
 * on every call, which was most of the cost of hashing a 68-byte token
 * (auth on every request). Dies if OpenSSL cannot provide SHA-256.
 */
void sha256(const void *data, size_t len, unsigned char out[32]);
/* RFC 3339 UTC with milliseconds into out (>= 32 bytes). */
void format_rfc3339(double unix_time, char *out, size_t n);

/* Fill out with n random bytes from the OS (getrandom); dies on failure. */
void random_bytes(void *out, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
