/*
 * store_backends.h: runs a unit test's cmocka group once per store backend of
 * the build (homing_store_backend_get), so the store, privacy and who tests are
 * one backend suite that speaks only the public API (homing/store.h).
 *
 * Contract: store_test_url gives the test a URL naming a store of the backend
 * under test that nothing has used yet. SQLite: a file in the test's own
 * temporary directory. Any other backend: the environment variable
 * HOMING_TEST_STORE_<SCHEME> (upper case), a URL template whose one "%s" is
 * replaced by a fresh name (the harness that starts the server sets it); a
 * backend the harness has no database for fails the test rather than skip it.
 * Engine-specific checks (SQLite's triggers, files, pragmas) live in
 * test_store_sqlite.c, PostgreSQL's in test_store_postgresql.c.
 */
#ifndef HOMING_TESTS_STORE_BACKENDS_H
#define HOMING_TESTS_STORE_BACKENDS_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/store_engine.h"

#define STORE_TEST_URL_MAX 512

/* The backend the group now running tests. */
static const char *store_test_scheme = "sqlite";

/* A fresh store URL of the backend under test, named name, in dir (a
 * temporary directory of the test's own); 0 or -1 with the reason on stderr. */
static inline int store_test_url(const char *dir, const char *name, char *url, size_t cap)
{
    int n;
    if (strcmp(store_test_scheme, "sqlite") == 0) {
        n = snprintf(url, cap, "sqlite:%s/%s.db", dir, name);
    } else {
        char var[64] = "HOMING_TEST_STORE_";
        size_t k = strlen(var);
        for (const char *p = store_test_scheme; *p && k + 1 < sizeof var; p++)
            var[k++] = (char)toupper((unsigned char)*p);
        var[k] = '\0';
        const char *tmpl = getenv(var);
        if (!tmpl || !strstr(tmpl, "%s")) {
            fprintf(stderr, "no test database for the %s backend: set %s\n", store_test_scheme,
                    var);
            return -1;
        }
        /* unique across the tests of this run and across concurrent runs */
        static unsigned seq;
        char fresh[96];
        snprintf(fresh, sizeof fresh, "%s_%ld_%u", name, (long)getpid(), seq++);
        n = snprintf(url, cap, tmpl, fresh);
    }
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The sync mode a test that wants "full" can ask of this backend. */
static inline const char *store_test_sync_full(void)
{
    const char *scheme;
    unsigned caps;
    for (size_t i = 0; homing_store_backend_get(i, &scheme, &caps) == 0; i++)
        if (strcmp(scheme, store_test_scheme) == 0)
            return caps & HOMING_STORE_CAP_SYNC ? "full" : "normal";
    return "normal";
}

/* The data key the suite seals with: every backend runs the suite on a
 * sealed store (homing/seal.h), as the programs do. */
static inline void store_test_seal(void)
{
    static struct homing_seal *k;
    static const uint8_t key[HOMING_SEAL_KEY_LEN] = "homing backend suite data key!!";
    if (!k && homing_seal_new(key, &k) < 0) abort();
    homing_store_seal_use(k);
}

/* Runs group (an array of struct CMUnitTest) once per backend: the number of
 * failed tests over all. Every backend runs every test; a backend still being
 * written would declare HOMING_STORE_CAP_PARTIAL and fail the tests it cannot
 * pass, rather than have them skipped. */
#define STORE_RUN_ON_EVERY_BACKEND(suite, group)                                                   \
    ({                                                                                             \
        int failed_ = 0;                                                                           \
        const char *scheme_;                                                                       \
        store_test_seal();                                                                         \
        for (size_t i_ = 0; homing_store_backend_get(i_, &scheme_, NULL) == 0; i_++) {             \
            char name_[96];                                                                        \
            snprintf(name_, sizeof name_, "%s on %s", suite, scheme_);                             \
            store_test_scheme = scheme_;                                                           \
            fflush(stdout);                                                                        \
            failed_ +=                                                                             \
                _cmocka_run_group_tests(name_, group, sizeof group / sizeof group[0], NULL, NULL); \
        }                                                                                          \
        failed_;                                                                                   \
    })

/* A fresh store of the backend under test named name in dir, a mkdtemp
 * template the call fills in (a new temporary directory of the test's
 * own): its URL in url (cap bytes), opened into *s. 0, or -1 with the
 * reason on stderr. */
static inline int store_test_make(char *dir, const char *name, char *url, size_t cap,
                                  struct homing_store **s)
{
    char err[256];
    if (!mkdtemp(dir) || store_test_url(dir, name, url, cap) < 0) return -1;
    if (homing_store_open(url, NULL, "normal", s, err, sizeof err) < 0) {
        fprintf(stderr, "open %s: %s\n", url, err);
        return -1;
    }
    return 0;
}

/* Closes s and removes dir with all it holds: 0, or -1. */
static inline int store_test_drop(struct homing_store *s, const char *dir)
{
    homing_store_close(s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
