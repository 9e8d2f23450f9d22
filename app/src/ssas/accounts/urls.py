"""Django's own authentication views under /accounts/, with the app's templates.

Logout is POST only (Django 5); password reset mails a one-time link (EMAIL_BACKEND: SMTP
when the deployment configures it, else files under the data directory) and never says
whether an address has an account.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("django.contrib.auth.urls")),
]
