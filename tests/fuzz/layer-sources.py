#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints the C sources of the layer libraries named in src/meson.build.

The libFuzzer build compiles its own, coverage-instrumented copy of the
layers; reading the list from src/meson.build keeps that copy in step with
the real libraries. main.c, daemon.c and cli/ are left out (no fuzzer drives them),
and so are the files given with --exclude.
Usage: layer-sources.py SRC_DIR [--exclude FILE...]
"""
import re
import sys


def main(argv):
    src_dir = argv[1]
    exclude = set(argv[3:]) if len(argv) > 2 and argv[2] == '--exclude' else set()
    with open(src_dir + '/meson.build', encoding='utf-8') as f:
        text = f.read()
    seen = []
    for name in re.findall(r"'([\w./-]+\.c)'", text):
        if name in ('main.c', 'daemon.c') or name.startswith('cli/') or name in exclude or name in seen:
            continue
        seen.append(name)
    for name in seen:
        print(src_dir + '/' + name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
