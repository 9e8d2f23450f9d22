"""Sign-in for every staff role: login, logout, password change and reset (Django's views)."""
