/*
 * geo.c: the country of an address from a MaxMind-format database
 * (libmaxminddb). The default is ip-location-db's CC0 geo-whois-asn-country
 * database, whose records are {"country_code": "FR"}; a MaxMind GeoLite2 or
 * GeoIP2 Country/City file ({"country": {"iso_code": "FR"}}) works too.
 *
 * Contract: see homing/reader.h. An opened database is read-only and may be
 * shared between threads (libmaxminddb lookups do not mutate it).
 */
#include <errno.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "homing/reader.h"

struct homing_geo_db {
    MMDB_s mmdb;
};

int homing_geo_open(const char *mmdb_path, struct homing_geo_db **out)
{
    struct homing_geo_db *db = calloc(1, sizeof *db);
    if (!db) return -ENOMEM;
    int rc = MMDB_open(mmdb_path, MMDB_MODE_MMAP, &db->mmdb);
    if (rc != MMDB_SUCCESS) {
        int e = rc == MMDB_FILE_OPEN_ERROR       ? -ENOENT
                : rc == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM
                                                 : -EINVAL;
        free(db);
        return e;
    }
    *out = db;
    return 0;
}

void homing_geo_close(struct homing_geo_db *db)
{
    if (!db) return;
    MMDB_close(&db->mmdb);
    free(db);
}

static int take_code(const MMDB_entry_data_s *d, char cc[3])
{
    if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size != 2) return -ENOENT;
    for (int i = 0; i < 2; i++) {
        char c = d->utf8_string[i];
        if (c < 'A' || c > 'Z') return -ENOENT;
        cc[i] = c;
    }
    cc[2] = '\0';
    return 0;
}

int homing_geo_country(const struct homing_geo_db *db, const struct homing_addr *a, char cc[3])
{
    if (!db || !a) return -EINVAL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (a->family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->bytes, 4);
    } else if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->bytes, 16);
    } else {
        return -EINVAL;
    }
    int mmdb_error = 0;
    /* MMDB_lookup_sockaddr takes a non-const MMDB_s but only reads it. */
    MMDB_lookup_result_s res =
        MMDB_lookup_sockaddr((MMDB_s *)&db->mmdb, (struct sockaddr *)&ss, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS) return -EINVAL;
    if (!res.found_entry) return -ENOENT;
    MMDB_entry_data_s d;
    char tmp[3];
    if (MMDB_get_value(&res.entry, &d, "country_code", NULL) == MMDB_SUCCESS &&
        take_code(&d, tmp) == 0) {
        memcpy(cc, tmp, 3);
        return 0;
    }
    if (MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS &&
        take_code(&d, tmp) == 0) {
        memcpy(cc, tmp, 3);
        return 0;
    }
    return -ENOENT;
}
