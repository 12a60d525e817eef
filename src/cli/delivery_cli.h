/*
 * delivery_cli.h: what the delivery subcommands (send.c, ingest.c,
 * ingest_imap.c, ingest_log.c) share inside src/cli; not used elsewhere.
 */
#ifndef HOMING_DELIVERY_CLI_H
#define HOMING_DELIVERY_CLI_H

#include <stddef.h>

#include "cli.h"

#define DELIVERY_CLI_CRED_MAX 256 /* bytes of a user name or password */

/* Reads an --auth-file: the user name on the first line, the password on the
 * second. Refuses (-EPERM) a file readable by group or others: a password never
 * sits in a world-readable file, nor on a command line. Prints its own error. */
int delivery_cli_auth_file(const char *path, char *user, char *password);

/* homing ingest --imap: fetches the mailbox's new messages and ingests them
 * (ingest_imap.c). Returns a CLI exit status. */
int delivery_cli_ingest_imap(struct cli *cli, const char *url, const char *auth_file,
                             const char *move_to, int insecure);

/* Ingests one message and prints one line about it; returns 0, or a negative
 * errno for a store failure (ingest.c). */
int delivery_cli_ingest_one(struct cli *cli, const char *source, const char *label,
                            const char *data, size_t len);

#endif
