"""The one place the release version is written (pyproject.toml reads it from here).

Kept in its own module without imports so packaging tools, ``/healthz`` and
the Python client can all read it without importing Flask or redis.
"""

__version__ = "0.9.0"
