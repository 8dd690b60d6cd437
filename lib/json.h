/* json: the few helpers chanrac needs to write JSON (the CLI's --json output).
 * Output only; strings are escaped per RFC 8259 and invalid UTF-8 is replaced. */
#ifndef CHANRAC_JSON_H
#define CHANRAC_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included. */
void json_write_str(FILE *f, const char *s);
/* Writes "key": with the key escaped. */
void json_write_key(FILE *f, const char *key);

#endif
