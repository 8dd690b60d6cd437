/* conf: the one INI file all three programs read (libinih).  Every key that may
 * appear is declared once in conf_keys.c with its type, default and bounds; a key
 * not declared there, or a value of the wrong type, is an error naming
 * FILE:LINE, the section and the key.  A loaded conf is immutable: reload builds a
 * new one and the caller swaps it, keeping the old one on error.
 *
 * Sections are per program ([redis], [lists], [cli], [rbld], [milter], ...).
 * Named sections carry an argument: "[zone bl.example.vn]" is an instance of
 * the declared section "zone *". */
#ifndef CHANRAC_CONF_H
#define CHANRAC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/chanrac/chanrac.conf"

enum conf_type {
	CONF_STR,      /* any text */
	CONF_INT,      /* decimal within [min,max] */
	CONF_BOOL,     /* yes/no/true/false/on/off/1/0 */
	CONF_DURATION, /* "250ms", "5s", "2m", "1h", "7d"; kept in ms within [min,max] ms */
	CONF_LIST,     /* words separated by spaces or commas */
};

struct conf_key {
	const char *section; /* "redis", or "zone *" for a named section */
	const char *name;
	enum conf_type type;
	const char *def;     /* default as text; NULL = empty/unset */
	int64_t min, max;    /* CONF_INT / CONF_DURATION (ms) bounds */
};

/* The table in conf_keys.c, ended by an entry with section == NULL. */
extern const struct conf_key conf_keys[];

typedef struct cr_conf cr_conf;

/* Loads path.  NULL on error with err = "FILE:LINE: [section] key: message"
 * (or "FILE: message" for an unreadable file). */
cr_conf *conf_load(const char *path, char *err, size_t errlen);
/* Loads from a string (tests); name is used in messages. */
cr_conf *conf_load_string(const char *text, const char *name, char *err, size_t errlen);
/* Built-in defaults only. */
cr_conf *conf_defaults(void);
/* The usual program start: path from -c, or the default path if it exists,
 * else built-in defaults.  explicit_path = the -c argument or NULL. */
cr_conf *conf_open(const char *explicit_path, char *err, size_t errlen);
void conf_free(cr_conf *c);

/* File the conf came from, or "(defaults)". */
const char *conf_source(const cr_conf *c);

/* Typed getters.  section is a plain name or a full named-section name such as
 * "zone bl.example.vn".  Unset keys give their declared default.  Asking for an
 * undeclared key is a programming error: it logs and returns an empty value. */
const char *conf_str(const cr_conf *c, const char *section, const char *key);
int64_t conf_int(const cr_conf *c, const char *section, const char *key);
bool conf_bool(const cr_conf *c, const char *section, const char *key);
int64_t conf_ms(const cr_conf *c, const char *section, const char *key);
/* NULL-terminated array of words, owned by c. */
const char *const *conf_list(const cr_conf *c, const char *section, const char *key);
/* 1 if the key was set in the file, 0 if it has its default. */
int conf_is_set(const cr_conf *c, const char *section, const char *key);

/* Named sections present in the file for a declared "KIND *" section:
 * number of them, and the argument ("bl.example.vn") and full name of the i-th,
 * in file order. */
size_t conf_named_count(const cr_conf *c, const char *kind);
const char *conf_named_arg(const cr_conf *c, const char *kind, size_t i);
const char *conf_named_section(const cr_conf *c, const char *kind, size_t i);

#endif
