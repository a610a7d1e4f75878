"""The HTTP server: the API, the web console and the server's own health and metrics.

:func:`opsplane.server.app.create_app` builds the FastAPI application around a
:class:`~opsplane.server.runtime.Runtime` (the database, the metric store, the evaluator and
the notifier). ``opsplane serve`` runs it with uvicorn.
"""
