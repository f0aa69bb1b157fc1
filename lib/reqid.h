#pragma once
/*
 * reqid: request ids. A client's X-Request-Id is kept when it is 1 to 64
 * characters of [A-Za-z0-9._:-]; anything else is replaced by a fresh
 * UUIDv4 so a hostile header cannot reach logs or responses.
 */
#include <stdbool.h>
#include <stddef.h>

#define REQID_MAX 64

bool reqid_valid(const char *id);
/* Write a random UUIDv4 (36 chars + NUL) into out (>= 37 bytes). */
void reqid_generate(char *out, size_t n);
/* Copy client's id when valid, else generate one, into out (>= 65 bytes). */
void reqid_choose(const char *client, char *out, size_t n);
