/* doctor.c: placeholder, filled in below. */
#include "cli.h"
int cmd_doctor(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    return CLI_ERROR;
}
