/* fingerprint: a normalised fingerprint of a message's visible text, to recognise
 * copies of a known spam template.  The text is case-folded (Unicode), a leading
 * personalised salutation ("Dear X,", "Kính gửi anh X,") is dropped, tracking
 * tokens are replaced by placeholders (a URL by its host, an email address by its
 * domain, long digit/hex runs and long mixed ids by "#"), and what remains is cut
 * into overlapping word 3-grams (shingles).  The fingerprint is a MinHash
 * signature of that shingle set: FINGERPRINT_HASHES minima of independent hash
 * functions, so the share of equal minima estimates the Jaccard similarity of
 * two texts' shingle sets.  White space and case never matter, a changed word
 * changes 3 shingles, a reordered footer only the shingles across its line
 * boundaries.  Texts with fewer than min_words distinct words (placeholders not
 * counted) get no fingerprint at all, so empty and near-empty bodies never match.
 *
 * For lookup the signature is cut into FINGERPRINT_BANDS bands of
 * FINGERPRINT_ROWS values (locality-sensitive hashing): two texts with Jaccard
 * similarity J share at least one band with probability 1-(1-J^2)^32 (0.9999 at
 * J = 0.5, 0.95 at J = 0.3); unrelated texts essentially never do. */
#ifndef CHANRAC_FINGERPRINT_H
#define CHANRAC_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define FINGERPRINT_HASHES 64
#define FINGERPRINT_ROWS 2
#define FINGERPRINT_BANDS (FINGERPRINT_HASHES / FINGERPRINT_ROWS)
#define FINGERPRINT_SHINGLE 3
/* Text form: 16 lower-case hex digits per value, no separator. */
#define FINGERPRINT_TEXT_LEN (FINGERPRINT_HASHES * 16)
/* Id: 16 hex digits (a hash of the signature). */
#define FINGERPRINT_ID_LEN 16

struct fingerprint {
	uint64_t h[FINGERPRINT_HASHES];
	unsigned words;     /* tokens after normalisation, placeholders included */
	unsigned distinct;  /* distinct words, placeholders not counted */
};

/* Fingerprints UTF-8 text (NFC, as msg_text gives it).  0 with *fp filled; 1 when
 * the text has fewer than min_words distinct words (no fingerprint; *fp holds
 * only the counts); -1 on out-of-memory. */
int fingerprint_text(const char *text, size_t len, unsigned min_words, struct fingerprint *fp);

/* The normalised token stream fingerprint_text hashes, words separated by one
 * space (for tests and `chanrac template add --show`).  Returns the number of
 * words, or -1 on out-of-memory; out is cut to outlen-1 bytes. */
int fingerprint_normalise(const char *text, size_t len, char *out, size_t outlen);

/* Estimated Jaccard similarity in [0, 1]: share of equal minima. */
double fingerprint_similarity(const struct fingerprint *a, const struct fingerprint *b);

/* Band i (0..FINGERPRINT_BANDS-1) as 16 hex digits + NUL. */
void fingerprint_band(const struct fingerprint *fp, unsigned band, char out[17]);

/* The signature as FINGERPRINT_TEXT_LEN hex digits + NUL (out must hold
 * FINGERPRINT_TEXT_LEN + 1 bytes). */
void fingerprint_encode(const struct fingerprint *fp, char *out);
/* Reads that form back; 0, or -1 if s is not exactly that. */
int fingerprint_decode(const char *s, size_t len, struct fingerprint *fp);

/* A stable id of the signature: 16 hex digits + NUL. */
void fingerprint_id(const struct fingerprint *fp, char out[FINGERPRINT_ID_LEN + 1]);

#endif
