import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
application = get_wsgi_application()

# Move everything loaded at start-up (Django, URL conf, apps) out of the garbage collector's
# reach: a full collection then walks only what requests allocate. On the large coding pages
# full collections were the slowest requests (bench/RESULTS.md).
gc.freeze()
