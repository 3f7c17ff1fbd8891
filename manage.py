#!/usr/bin/env python
"""Django's command-line utility for MIRAGE."""

import sys


def main() -> None:
    from mirage_site.bootstrap import prepare

    prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
