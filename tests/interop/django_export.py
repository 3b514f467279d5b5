"""A real `dumpdata auth.user auth.group --indent 2` export from a real Django, with users
whose password is known, each hashed by one of Django's hashers, in a group, and a
superuser. Usage: django_export.py OUT_FILE PASSWORD"""
import os
import sys
import tempfile

import django
from django.conf import settings

out, password = sys.argv[1:3]
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.path.join(tempfile.mkdtemp(), "django.sqlite3")}},
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ],
    USE_TZ=True,
    SECRET_KEY="export-only",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
support = Group.objects.create(name="Support Team")
for username, hasher in [("pbkdf2user", "pbkdf2_sha256"), ("argon2user", "argon2"),
                         ("bcryptsha", "bcrypt_sha256"), ("bcryptuser", "bcrypt")]:
    user = User.objects.create(username=username, email=f"{username}@example.com",
                               password=make_password(password, hasher=hasher))
    user.groups.add(support)
User.objects.create_superuser("djangoadmin", "admin@example.com", password)
call_command("dumpdata", "auth.user", "auth.group", indent=2, output=out)
