"""One settings file for k8slearn.

Defaults need nothing (SQLite, in-memory channel layer); every integration is switched on by an
environment variable: DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, DJANGO_DEBUG, ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)

# A fixed development key keeps `make run` zero-configuration; production must set its own.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "django-insecure-k8slearn-development-key-change-me-in-production"
)
if not DEBUG and SECRET_KEY.startswith("django-insecure-"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "daphne",  # first, so that `runserver` is Daphne's ASGI server (daphne.E001)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "k8slearn.courses",
    "k8slearn.playground",
    "k8slearn.classroom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "k8slearn.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "k8slearn.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=600
    )
}
# Browser tests run Daphne in a subprocess: both processes must see one SQLite *file*.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("K8SLEARN_TEST_DB", str(BASE_DIR / "test-db.sqlite3"))
    }

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    # Channels' in-memory layer, minus a sweep of every channel on every message (see layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "k8slearn.playground.layers.LocalChannelLayer"}}

# With REDIS_URL, how long a process's claim on a sandbox lasts without renewal (playground/owners.py).
PLAYGROUND_LEASE = float(os.environ.get("PLAYGROUND_LEASE", "15"))

# One cache for join-attempt counting (classroom/ratelimit.py): shared by every process with Redis.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Instructors log in (students never need an account).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classroom:classes"
LOGOUT_REDIRECT_URL = "courses:course_map"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live in the database so that anonymous progress survives a server restart.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# The built-in lessons (NN-slug/lesson.yaml + ko.md + en.md; see lessons/README.md).
LESSONS_DIR = Path(os.environ.get("K8SLEARN_LESSONS_DIR", BASE_DIR / "lessons"))
# An instructor's own lessons folders, served after the built-in ones: LESSON_DIRS is a list
# separated by ":" (os.pathsep), like PATH. BUILTIN_LESSONS=0 serves only those folders.
LESSON_DIRS = [
    Path(p).expanduser() for p in os.environ.get("LESSON_DIRS", "").split(os.pathsep) if p.strip()
]
BUILTIN_LESSONS = env_bool("BUILTIN_LESSONS", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "filters": {
        # The live preview asks for /dev/lessons/token every second: not worth a log line.
        "quiet_preview": {"()": "django.utils.log.CallbackFilter",
                          "callback": lambda record: "/dev/lessons/token" not in str(record.msg)
                          and "/dev/lessons/token" not in str(record.args)},
    },
    "loggers": {
        # `make run` (Daphne's runserver): one line per request, not two (root and "django").
        "django.channels.server": {"handlers": ["console"], "level": "INFO",
                                   "propagate": False, "filters": ["quiet_preview"]},
    },
}
