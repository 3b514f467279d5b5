#!/usr/bin/env python
"""The stack Authenticon replaces, for side-by-side benchmarks: Django + DRF + simplejwt."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
