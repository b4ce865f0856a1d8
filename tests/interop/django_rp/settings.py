"""A minimal Django site that logs users in with django-allauth's OpenID Connect provider.

The provider URLs come from the environment (set by the test fixture before django.setup()):
INTEROP_SERVER_URL is the realm base of a plain start-dev server; INTEROP_PLATFORM_SERVER_URL
the internal realm base of a server whose public issuer differs (the platform's set-up)."""

import os
import tempfile

SECRET_KEY = "interop-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
USE_TZ = True
ROOT_URLCONF = "django_rp.urls"
_DB_DIR = tempfile.mkdtemp(prefix="interop-django-")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.path.join(_DB_DIR, "db.sqlite3")}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_REDIRECT_URL = "/welcome/"
SOCIALACCOUNT_LOGIN_ON_GET = True
SOCIALACCOUNT_STORE_TOKENS = True


def _app(provider_id: str, server_url: str) -> dict:
    return {"provider_id": provider_id, "name": "Keycloak", "client_id": "myclient",
            "secret": "my-client-secret", "settings": {"server_url": server_url}}


_DEFAULT = "http://127.0.0.1:8080/auth/realms/myrealm"
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": [
    _app("keycloak", os.environ.get("INTEROP_SERVER_URL", _DEFAULT)),
    _app("keycloak-platform", os.environ.get("INTEROP_PLATFORM_SERVER_URL", _DEFAULT)),
]}}
