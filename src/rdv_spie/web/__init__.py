"""The web kit, below the rooms: rendering a page (pages.py), browser sessions (sessions.py)
and who is behind a request (auth.py), the back-office sign-in (login.py), CSRF and security
headers (security.py), rate limits (ratelimit.py), error pages and problem details
(errors.py), the back-office page helpers (office.py) and paths (paths.py), a refused
booking's recovery (refused.py), the front page, the health probes and
the OpenAPI fixes. The rooms' page modules import it; it imports no room above it, only what
lies below (deps, who's who, templating, the database kit, the ground). Routes are gathered
in app.py, not here."""
