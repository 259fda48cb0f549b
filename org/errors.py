"""Errors the services raise. Views turn them into form errors, the API into 4xx bodies.

- ``django.core.exceptions.PermissionDenied``: the person may not do this (role or scope) → 403.
- ``django.core.exceptions.ValidationError``: the input is wrong → 400.
- ``ActionRefused``: the object is not in a state that allows the step → 409.
"""


class ActionRefused(Exception):
    """The step is not allowed in the object's current state (e.g. closing a case not yet handled)."""
