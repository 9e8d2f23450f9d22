"""The load balancer's route classes for the bundled app's URLs.

ML routes (CPU-heavy: the per-student analyses, anomalies, batch analysis, training, and
the pages that run them: a student's page, a school's overview, starting a batch) get their
own rate limit and the long timeout. They are the app's views that carry its ML throttle
(ssas.api.throttles.MLThrottle) or call into ssas.ml.service / ssas.ml.tasks.

Sign-in routes (the app's and the admin's login and password change, the API token, and
the password reset that sends mail) check a password or send mail: they get the sign-in
rate limit.

tests/rendering/test_routes.py walks the app's URL patterns, puts each through the
rendered nginx locations, and checks that ML_LOCATION and LOGIN_LOCATION match exactly
those routes, and that every other route the app serves lands in a rate-limited location.
"""

# nginx `location ~` regexes (PCRE), matched against the request path.
ML_LOCATION = (r"^/(api/(students/[^/]+/(careers|peers|prediction)/?$|anomalies/?$"
               r"|analysis/batch/?$|models/training(/|$))"
               r"|(students/[^/]+|schools/[^/]+(/batch)?)/$)")
LOGIN_LOCATION = (r"^/(accounts/(login|password_reset|password_change)/$"
                  r"|admin/(login|password_change)/$|api/auth/token/?$)")
