/* conf: loads the INI file with libinih into an immutable table of typed values.
 * Every key must be declared in conf_keys[]; values are checked and converted
 * at load time so getters never fail and never allocate. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct conf_val {
	const struct conf_key *key;
	char *section;   /* full section name: "redis", "zone bl.test" */
	char *text;      /* value as written (or the default) */
	int64_t num;     /* INT, BOOL, DURATION (ms) */
	char **words;    /* LIST: NULL-terminated */
	unsigned line;   /* 0 = default */
};

struct conf_named {
	char *kind; /* "zone" */
	char *arg;  /* "bl.test" */
	char *full; /* "zone bl.test" */
};

struct cr_conf {
	char *source;
	struct conf_val *vals;
	size_t nvals, capvals;
	struct conf_named *named;
	size_t nnamed, capnamed;
};

/* Parse state: the reader counts lines so messages can name FILE:LINE. */
struct conf_parse {
	cr_conf *c;
	const char *name;
	FILE *f;
	const char *str; /* string input instead of f */
	unsigned line;
	char *err;
	size_t errlen;
	int failed;
};

/* Grows an array to hold need elements; 0 or -1 (out of memory, *p kept). */
static int conf_grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 32;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * size);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* The declared key for (section, name): exact plain section, or "KIND *" when
 * section is "KIND ARG". */
static const struct conf_key *conf_find_decl(const char *section, const char *name)
{
	for (const struct conf_key *k = conf_keys; k->section != NULL; k++) {
		if (strcmp(k->name, name) != 0)
			continue;
		size_t sl = strlen(k->section);
		if (sl >= 2 && strcmp(k->section + sl - 2, " *") == 0) {
			if (strncmp(section, k->section, sl - 1) == 0 && section[sl - 1] != '\0')
				return k;
		} else if (strcmp(k->section, section) == 0) {
			return k;
		}
	}
	return NULL;
}

/* 1 if section (full name) is declared at all; *kindlen = length of KIND for a
 * named section, 0 for a plain one. */
static int conf_section_declared(const char *section, size_t *kindlen)
{
	for (const struct conf_key *k = conf_keys; k->section != NULL; k++) {
		size_t sl = strlen(k->section);
		if (sl >= 2 && strcmp(k->section + sl - 2, " *") == 0) {
			if (strncmp(section, k->section, sl - 1) == 0 && section[sl - 1] != '\0' &&
			    strchr(section + sl - 1, ' ') == NULL) {
				*kindlen = sl - 2;
				return 1;
			}
		} else if (strcmp(k->section, section) == 0) {
			*kindlen = 0;
			return 1;
		}
	}
	return 0;
}

static void conf_free_words(char **w)
{
	if (w == NULL)
		return;
	for (char **p = w; *p; p++)
		free(*p);
	free(w);
}

/* NULL-terminated words of text; NULL if out of memory. */
static char **conf_split_words(const char *text)
{
	size_t n = 0, cap = 4;
	char **w = calloc(cap, sizeof *w);
	const char *p = text;

	if (w == NULL)
		return NULL;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != '\n')
			p++;
		if (n + 2 > cap) {
			cap *= 2;
			char **nw = realloc(w, cap * sizeof *w);
			if (nw == NULL) {
				conf_free_words(w);
				return NULL;
			}
			w = nw;
		}
		w[n] = strndup(s, (size_t)(p - s));
		if (w[n] == NULL) {
			conf_free_words(w);
			return NULL;
		}
		w[++n] = NULL;
	}
	return w;
}

/* Converts text per the key's type into v; 0 or -1 with a message in why. */
static int conf_convert(const struct conf_key *k, const char *text, struct conf_val *v,
			char *why, size_t whylen)
{
	int64_t n;

	switch (k->type) {
	case CONF_STR:
		return 0;
	case CONF_INT:
		if (util_parse_i64(text, k->min, k->max, &n) != 0) {
			util_errf(why, whylen, "'%s' is not an integer in %lld..%lld", text,
				  (long long)k->min, (long long)k->max);
			return -1;
		}
		v->num = n;
		return 0;
	case CONF_BOOL:
		if (!strcasecmp(text, "yes") || !strcasecmp(text, "true") ||
		    !strcasecmp(text, "on") || !strcmp(text, "1"))
			v->num = 1;
		else if (!strcasecmp(text, "no") || !strcasecmp(text, "false") ||
			 !strcasecmp(text, "off") || !strcmp(text, "0"))
			v->num = 0;
		else {
			util_errf(why, whylen, "'%s' is not yes or no", text);
			return -1;
		}
		return 0;
	case CONF_DURATION:
		if (util_parse_duration_ms(text, &n) != 0 || n < k->min || n > k->max) {
			util_errf(why, whylen,
				  "'%s' is not a duration in %lldms..%lldms (e.g. 250ms, 5s, 2m, 1h, 7d)",
				  text, (long long)k->min, (long long)k->max);
			return -1;
		}
		v->num = n;
		return 0;
	case CONF_LIST:
		v->words = conf_split_words(text);
		if (v->words == NULL) {
			util_errf(why, whylen, "out of memory");
			return -1;
		}
		return 0;
	}
	return -1;
}

static struct conf_val *conf_lookup(const cr_conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->nvals; i++)
		if (strcmp(c->vals[i].key->name, key) == 0 &&
		    strcmp(c->vals[i].section, section) == 0)
			return &c->vals[i];
	return NULL;
}

/* Appends a value with its section and text; NULL if out of memory. */
static struct conf_val *conf_add_val(cr_conf *c, const struct conf_key *k, const char *section,
				     const char *text)
{
	if (conf_grow((void **)&c->vals, &c->capvals, c->nvals + 1, sizeof *c->vals) != 0)
		return NULL;
	struct conf_val *v = &c->vals[c->nvals];
	memset(v, 0, sizeof *v);
	v->key = k;
	v->section = strdup(section);
	v->text = strdup(text);
	if (v->section == NULL || v->text == NULL) {
		free(v->section);
		free(v->text);
		return NULL;
	}
	c->nvals++;
	return v;
}

/* Records a named-section instance once; 0 or -1 if out of memory. */
static int conf_note_named(cr_conf *c, const char *section, size_t kindlen)
{
	for (size_t i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i].full, section) == 0)
			return 0;
	if (conf_grow((void **)&c->named, &c->capnamed, c->nnamed + 1, sizeof *c->named) != 0)
		return -1;
	struct conf_named *n = &c->named[c->nnamed];
	n->full = strdup(section);
	n->kind = strndup(section, kindlen);
	n->arg = strdup(section + kindlen + 1);
	if (n->full == NULL || n->kind == NULL || n->arg == NULL) {
		free(n->full);
		free(n->kind);
		free(n->arg);
		return -1;
	}
	c->nnamed++;
	return 0;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	const struct conf_key *k;
	struct conf_val *v;
	char why[256];
	size_t kindlen;

	if (p->failed)
		return 1;
	if (section[0] == '\0') {
		util_errf(p->err, p->errlen, "%s:%u: %s: key outside any [section]", p->name,
			  p->line, name);
		p->failed = 1;
		return 0;
	}
	if (!conf_section_declared(section, &kindlen)) {
		util_errf(p->err, p->errlen, "%s:%u: [%s]: unknown section", p->name, p->line,
			  section);
		p->failed = 1;
		return 0;
	}
	k = conf_find_decl(section, name);
	if (k == NULL) {
		util_errf(p->err, p->errlen, "%s:%u: [%s] %s: unknown key", p->name, p->line,
			  section, name);
		p->failed = 1;
		return 0;
	}
	v = conf_lookup(p->c, section, name);
	if (v != NULL) {
		util_errf(p->err, p->errlen, "%s:%u: [%s] %s: set twice (first at line %u)",
			  p->name, p->line, section, name, v->line);
		p->failed = 1;
		return 0;
	}
	v = conf_add_val(p->c, k, section, value);
	if (v == NULL || (kindlen && conf_note_named(p->c, section, kindlen) != 0)) {
		util_errf(p->err, p->errlen, "%s:%u: out of memory", p->name, p->line);
		p->failed = 1;
		return 0;
	}
	v->line = p->line;
	if (conf_convert(k, value, v, why, sizeof why) != 0) {
		util_errf(p->err, p->errlen, "%s:%u: [%s] %s: %s", p->name, p->line, section, name,
			  why);
		p->failed = 1;
		return 0;
	}
	return 1;
}

/* Reader for ini_parse_stream: one line per call, so p->line is the line the
 * handler is looking at.  Section headers are noted here too, so that a named
 * section with no keys still exists. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	char *r;

	if (p->f != NULL) {
		r = fgets(str, num, p->f);
	} else {
		if (*p->str == '\0')
			return NULL;
		const char *nl = strchr(p->str, '\n');
		size_t len = nl ? (size_t)(nl - p->str) + 1 : strlen(p->str);
		if (len > (size_t)num - 1)
			len = (size_t)num - 1;
		memcpy(str, p->str, len);
		str[len] = '\0';
		p->str += len;
		r = str;
	}
	if (r == NULL)
		return NULL;
	p->line++;
	/* libinih hands us a fixed buffer; a longer line would be split and its
	 * tail parsed as a line of its own, so say what happened instead. */
	size_t got = strlen(str);
	if (got == (size_t)num - 1 && str[got - 1] != '\n' &&
	    (p->f != NULL ? !feof(p->f) : *p->str != '\0')) {
		if (!p->failed)
			util_errf(p->err, p->errlen, "%s:%u: line longer than %d characters",
				  p->name, p->line, num - 2);
		p->failed = 1;
		return NULL;
	}
	const char *s = str;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '[' && !p->failed) {
		const char *e = strchr(s, ']');
		size_t kindlen;
		if (e != NULL) {
			char sec[256];
			size_t n = (size_t)(e - s - 1);
			if (n < sizeof sec) {
				memcpy(sec, s + 1, n);
				sec[n] = '\0';
				if (conf_section_declared(sec, &kindlen)) {
					if (kindlen && conf_note_named(p->c, sec, kindlen) != 0) {
						util_errf(p->err, p->errlen, "%s:%u: out of memory",
							  p->name, p->line);
						p->failed = 1;
					}
				} else {
					util_errf(p->err, p->errlen, "%s:%u: [%s]: unknown section",
						  p->name, p->line, sec);
					p->failed = 1;
				}
			}
		}
	}
	return r;
}

/* Adds default values for every declared key not set: plain sections once,
 * named sections once per instance present.  0, or -1 if out of memory. */
static int conf_fill_defaults(cr_conf *c)
{
	char why[256];

	for (const struct conf_key *k = conf_keys; k->section != NULL; k++) {
		size_t sl = strlen(k->section);
		int named = sl >= 2 && strcmp(k->section + sl - 2, " *") == 0;
		size_t ninst = named ? c->nnamed : 1;
		for (size_t i = 0; i < ninst; i++) {
			const char *section = k->section;
			if (named) {
				if (strlen(c->named[i].kind) != sl - 2 ||
				    strncmp(c->named[i].kind, k->section, sl - 2) != 0)
					continue;
				section = c->named[i].full;
			}
			if (conf_lookup(c, section, k->name) != NULL)
				continue;
			struct conf_val *v = conf_add_val(c, k, section, k->def ? k->def : "");
			if (v == NULL)
				return -1;
			/* Defaults are checked by tests/unit/test_conf.c. */
			if (conf_convert(k, v->text, v, why, sizeof why) != 0) {
				log_err("built-in default of [%s] %s: %s", k->section, k->name, why);
				return -1;
			}
		}
	}
	return 0;
}

static cr_conf *conf_new(const char *source)
{
	cr_conf *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->source = strdup(source);
	if (c->source == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static cr_conf *conf_parse_any(struct conf_parse *p)
{
	int r = ini_parse_stream(conf_reader, p, conf_handler, p);

	if (!p->failed && r != 0) {
		if (r > 0)
			util_errf(p->err, p->errlen, "%s:%d: syntax error (expected [section] or key = value)",
				  p->name, r);
		else
			util_errf(p->err, p->errlen, "%s: cannot parse", p->name);
		p->failed = 1;
	}
	if (!p->failed && conf_fill_defaults(p->c) != 0) {
		util_errf(p->err, p->errlen, "%s: out of memory", p->name);
		p->failed = 1;
	}
	if (p->failed) {
		conf_free(p->c);
		return NULL;
	}
	return p->c;
}

cr_conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct conf_parse p = { .name = path, .err = err, .errlen = errlen };

	p.f = fopen(path, "r");
	if (p.f == NULL) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	p.c = conf_new(path);
	if (p.c == NULL) {
		fclose(p.f);
		util_errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	cr_conf *c = conf_parse_any(&p);
	fclose(p.f);
	return c;
}

cr_conf *conf_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	struct conf_parse p = { .name = name, .str = text, .err = err, .errlen = errlen };

	p.c = conf_new(name);
	if (p.c == NULL) {
		util_errf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	return conf_parse_any(&p);
}

cr_conf *conf_defaults(void)
{
	cr_conf *c = conf_new("(defaults)");
	if (c != NULL && conf_fill_defaults(c) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

cr_conf *conf_open(const char *explicit_path, char *err, size_t errlen)
{
	if (explicit_path != NULL)
		return conf_load(explicit_path, err, errlen);
	if (access(CONF_DEFAULT_PATH, F_OK) == 0)
		return conf_load(CONF_DEFAULT_PATH, err, errlen);
	cr_conf *c = conf_defaults();
	if (c == NULL)
		util_errf(err, errlen, "out of memory");
	return c;
}

void conf_free(cr_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nvals; i++) {
		free(c->vals[i].section);
		free(c->vals[i].text);
		conf_free_words(c->vals[i].words);
	}
	for (size_t i = 0; i < c->nnamed; i++) {
		free(c->named[i].kind);
		free(c->named[i].arg);
		free(c->named[i].full);
	}
	free(c->vals);
	free(c->named);
	free(c->source);
	free(c);
}

const char *conf_source(const cr_conf *c)
{
	return c->source;
}

static const struct conf_val *conf_get(const cr_conf *c, const char *section, const char *key,
				       enum conf_type type)
{
	const struct conf_val *v = conf_lookup(c, section, key);

	if (v == NULL) {
		const struct conf_key *k = conf_find_decl(section, key);
		if (k == NULL)
			log_err("internal: config key [%s] %s is not declared", section, key);
		return NULL; /* declared named-section key of an absent section */
	}
	if (v->key->type != type) {
		log_err("internal: config key [%s] %s read with the wrong type", section, key);
		return NULL;
	}
	return v;
}

const char *conf_str(const cr_conf *c, const char *section, const char *key)
{
	const struct conf_val *v = conf_get(c, section, key, CONF_STR);
	return v ? v->text : "";
}

int64_t conf_int(const cr_conf *c, const char *section, const char *key)
{
	const struct conf_val *v = conf_get(c, section, key, CONF_INT);
	return v ? v->num : 0;
}

bool conf_bool(const cr_conf *c, const char *section, const char *key)
{
	const struct conf_val *v = conf_get(c, section, key, CONF_BOOL);
	return v ? v->num != 0 : false;
}

int64_t conf_ms(const cr_conf *c, const char *section, const char *key)
{
	const struct conf_val *v = conf_get(c, section, key, CONF_DURATION);
	return v ? v->num : 0;
}

const char *const *conf_list(const cr_conf *c, const char *section, const char *key)
{
	static const char *const empty[] = { NULL };
	const struct conf_val *v = conf_get(c, section, key, CONF_LIST);
	return v ? (const char *const *)v->words : empty;
}

int conf_is_set(const cr_conf *c, const char *section, const char *key)
{
	const struct conf_val *v = conf_lookup(c, section, key);
	return v != NULL && v->line != 0;
}

size_t conf_named_count(const cr_conf *c, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i].kind, kind) == 0)
			n++;
	return n;
}

static const struct conf_named *conf_named_at(const cr_conf *c, const char *kind, size_t idx)
{
	for (size_t i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i].kind, kind) == 0 && idx-- == 0)
			return &c->named[i];
	return NULL;
}

const char *conf_named_arg(const cr_conf *c, const char *kind, size_t i)
{
	const struct conf_named *n = conf_named_at(c, kind, i);
	return n ? n->arg : NULL;
}

const char *conf_named_section(const cr_conf *c, const char *kind, size_t i)
{
	const struct conf_named *n = conf_named_at(c, kind, i);
	return n ? n->full : NULL;
}
