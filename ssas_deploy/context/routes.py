"""The load balancer's route classes for the bundled app's URLs.

ML routes (CPU-heavy: the per-student analyses, anomalies, batch analysis, training) get
their own rate limit and the long timeout. They are the app's views that carry its ML
throttle (ssas.api.throttles.MLThrottle); a test walks the app's URL patterns and checks
that ML_LOCATION matches exactly those.
"""

# nginx `location ~` regex (PCRE), matched against the request path.
ML_LOCATION = (r"^/api/(students/[^/]+/(careers|peers|prediction)/?$|anomalies/?$"
               r"|analysis/batch/?$|models/training(/|$))")
