/*
 * homing/trackers.h: the tracker knowledge file (data/trackers.tsv, format in
 * docs/trackers-format.md): which hosts and URL paths belong to which tracking
 * vendor, whether they carry open beacons or click redirects, and whether a host
 * serves nothing but beacons (the only hosts a DNS blocklist may hold).
 *
 * Contract: parse/load return 0 and a table, or a negative errno with a message
 * naming the line in err; nothing is written to *out on failure. The table is
 * immutable after loading, so it may be shared by threads. Lookups take a host
 * already lower-cased by the caller and never allocate.
 */
#ifndef HOMING_TRACKERS_H
#define HOMING_TRACKERS_H

#include <stddef.h>

#define HOMING_TRACKERS_FILE_MAX  (8u << 20) /* bytes of a knowledge file */
#define HOMING_TRACKERS_LINE_MAX  2048       /* bytes of one line */
#define HOMING_TRACKERS_FIELD_MAX 512        /* bytes of one field */
#define HOMING_TRACKERS_HOST_MAX  253        /* a DNS name */
#define HOMING_TRACKERS_RULES_MAX 100000     /* rules in one file */

enum homing_tracker_role {
    HOMING_TRACKER_PIXEL = 1, /* open beacons: images, CSS, fonts */
    HOMING_TRACKER_CLICK = 2, /* click redirects */
    HOMING_TRACKER_BOTH = 3,
};

enum homing_tracker_scope {
    HOMING_TRACKER_ONLY,  /* nothing but beacons: safe to sinkhole */
    HOMING_TRACKER_LINKS, /* beacons and click redirects: sinkholing breaks links */
    HOMING_TRACKER_MIXED, /* also real content */
};

struct homing_tracker_rule {
    const char *vendor;
    const char *host;  /* "*" = any host */
    const char *path;  /* fnmatch glob over the URL path */
    const char *param; /* query parameter with the destination, or NULL */
    const char *source;
    const char *licence;
    int role;  /* enum homing_tracker_role bits */
    int scope; /* enum homing_tracker_scope */
    unsigned line;
};

struct homing_trackers;

int homing_trackers_parse(const char *text, size_t len, struct homing_trackers **out, char *err,
                          size_t errcap);
int homing_trackers_load(const char *path, struct homing_trackers **out, char *err, size_t errcap);
void homing_trackers_free(struct homing_trackers *t);

size_t homing_trackers_count(const struct homing_trackers *t);
const struct homing_tracker_rule *homing_trackers_rule(const struct homing_trackers *t, size_t i);
/* Number of distinct vendor names. */
size_t homing_trackers_vendor_count(const struct homing_trackers *t);

/* The rule that identifies a URL as tracking with the given role bits: the
 * longest matching host suffix first, a specific path before "*", then the
 * any-host rules. A mixed-scope rule with path "*" only names a vendor and is
 * never returned here. NULL if none. */
const struct homing_tracker_rule *homing_trackers_match(const struct homing_trackers *t,
                                                        const char *host, const char *path,
                                                        int role);
/* Any rule whose host matches (path ignored): used to name the vendor of a
 * device found by other evidence. NULL if none. */
const struct homing_tracker_rule *homing_trackers_vendor(const struct homing_trackers *t,
                                                         const char *host);

#endif
