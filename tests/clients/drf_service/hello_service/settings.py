"""A minimal DRF service whose only authentication is Authenticon's access tokens,
verified offline. AUTHENTICON_URL names Authenticon; POLL_INTERVAL_MS and
FAIL_CLOSED_AFTER_MS tune the verifier (the same variables as the Node example)."""
import os
import secrets

# Nothing here is signed by Django (no sessions, no CSRF): a throwaway key will do.
SECRET_KEY = secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "hello_service.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True

REST_FRAMEWORK = {
    # The one line that changes when moving from simplejwt:
    # "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    "DEFAULT_AUTHENTICATION_CLASSES": ["authenticon_verify.drf.JWTStatelessUserAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

AUTHENTICON_VERIFY = {
    "URL": os.environ["AUTHENTICON_URL"],
    "POLL_INTERVAL": int(os.environ.get("POLL_INTERVAL_MS", "2000")) / 1000,
    "FAIL_CLOSED_AFTER": int(os.environ.get("FAIL_CLOSED_AFTER_MS", "300000")) / 1000,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"authenticon_verify": {"handlers": ["stderr"], "level": "WARNING"}},
}
