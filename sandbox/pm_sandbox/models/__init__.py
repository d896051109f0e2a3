"""The models: per resource, its table, rules and serialization, raising ``errors`` domain errors.

Nothing here knows HTTP (no werkzeug, no request context): the routes in ``api/`` parse a request,
check the permission, call a model and serialize what it returns; ``seed.py`` uses the same models.
"""
