/* SPDX-License-Identifier: MIT */
/* vhost-device-gpu: see daemon.c. */
#include "daemon.h"

int main(int argc, char **argv)
{
	return vdg_daemon_main(argc, argv, NULL);
}
