/*
 * geo_import.c: `homing geo-import [--out FILE] CSV...`: converts ASN range
 * CSV files of ip-location-db (start,end,asn,"org") into the compact range file
 * the enrichment reads (homing_asn_build), for refreshing the data without
 * re-running scripts/setup.sh (which uses the standalone homing-geo-import,
 * built before homing itself). The file is written under a temporary name and
 * renamed, so a running daemon keeps its mapped copy until it restarts.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "homing/reader.h"

#define GEO_IMPORT_PATH_MAX 4096

static const char geo_import_usage[] =
    "usage: homing geo-import [--out FILE] CSV...\n\n"
    "Converts ip-location-db ASN CSV files (IPv4 and IPv6, start,end,asn,\"org\")\n"
    "into the range file that enrichment reads. FILE defaults to geo.asn_db of the\n"
    "configuration (relative paths are taken from its directory). Restart the\n"
    "daemon to use the new file.\n";

int cmd_geo_import(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, geo_import_usage)) return CLI_OK;
    const char *out = NULL;
    const char *csv[argc > 0 ? argc : 1];
    size_t n = 0;
    char safe[256];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0) {
            if (++i >= argc) return cli_usage_error("geo-import", "--out needs a file");
            out = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("geo-import", "unknown option '%s'",
                                   cli_safe(argv[i], safe, 64));
        } else {
            csv[n++] = argv[i];
        }
    }
    if (n == 0) return cli_usage_error("geo-import", "which CSV files?");
    char path[GEO_IMPORT_PATH_MAX];
    if (!out) {
        if (cli_config(cli) < 0) return CLI_ERROR;
        const char *db = homing_config_settings(cli->config)->geo.asn_db;
        if (!db || !*db) return cli_fail("geo.asn_db is empty: give --out FILE");
        const char *base = homing_config_base_dir(cli->config);
        int len = db[0] == '/' || !base || !*base ? snprintf(path, sizeof path, "%s", db)
                                                  : snprintf(path, sizeof path, "%s/%s", base, db);
        if (len < 0 || (size_t)len >= sizeof path) return cli_fail("geo.asn_db: path too long");
        out = path;
    }
    char err[512] = "";
    int r = homing_asn_build(csv, n, out, err, sizeof err);
    if (r < 0)
        return cli_fail("geo-import: %s", cli_safe(err[0] ? err : "failed", safe, sizeof safe));
    printf("geo-import: %d ranges written to %s\n", r, cli_safe(out, safe, sizeof safe));
    return CLI_OK;
}
