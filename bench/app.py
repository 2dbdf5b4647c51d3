"""What gunicorn serves in the page benchmark: the real application (wsgi.app) plus one bare
route returning a fixed string, the baseline each page's throughput is compared with.

The bare route exists only here, never in maf/. It goes through the same request hooks as the
real pages (the access gate, which lets it through as public, and the security headers), so
the ratio measures what a page itself costs: the database, the services and the template.
"""

from maf.auth.permissions import public
from wsgi import app

BARE_PATH = "/bench/bare"
BARE_TEXT = "bare"


@app.route(BARE_PATH)
@public
def bench_bare():
    return BARE_TEXT
