/*
 * ingest_imap.c: homing ingest --imap (placeholder until the libcurl client lands).
 */
#include "delivery_cli.h"

int delivery_cli_ingest_imap(struct cli *cli, const char *url, const char *auth_file,
                             const char *move_to, int insecure)
{
    (void)cli, (void)url, (void)auth_file, (void)move_to, (void)insecure;
    return cli_fail("--imap is not available yet");
}
