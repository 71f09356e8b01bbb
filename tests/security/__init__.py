"""Object-level authorisation: every operation of the served OpenAPI document, as every outsider.

Run: ``.venv/bin/python -m pytest tests/security -q``. The app's functions are called in process
(routed as the local host routes them) against the emulators.

- ``catalogue.py`` reads ``GET /openapi.json`` as the app serves it and aims every operation
  under ``/families/{familyId}`` at family A's records, one way per enum value and visibility;
  operations outside any family are listed in ``GLOBAL_OPERATIONS`` with how each is checked.
- ``borough.py`` builds the world: two teams, families A, B and C, a caller of every role, and
  family A's story (one record of every kind and variant the catalogue aims at).
- ``oracle.py`` says who is an outsider to what and what their answers may say: 404 (401 without
  a token), byte for byte the answer for a random id, holding none of family A's ids or text.
- ``test_object_access.py`` is the matrix; ``test_global_operations.py`` and
  ``test_ids_elsewhere.py`` check lists, sync, invitations, staff, creates naming an existing
  id, and page tokens; ``test_catalogue.py`` fails when an operation is not covered.

A new endpoint inside a family is covered without a change here. One outside any family, or
one naming a record the borough cannot make, fails ``test_catalogue`` (or the borough's build)
with what to add. A defect found is marked in ``KNOWN_DEFECTS`` (``test_object_access.py``) as
``xfail(strict=True)`` with the defect named, so its fix turns the suite red until the mark goes.
"""
