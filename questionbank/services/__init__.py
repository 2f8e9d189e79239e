"""Writes to the question bank, one concern per module. Every rule about questions lives here; the admin,
views, management commands and importers only parse input and call these functions:

- ``questions``: ``question_clean``, ``question_create``, ``question_update`` (versions),
  ``topic_get_or_create_path``;
- ``review``: ``question_submit_for_review``, ``question_approve``, ``question_reject``, ``question_retire``,
  ``question_correct`` and the ``question_corrected`` signal;
- ``media``: ``media_validate``, ``question_media_add``;
- ``imports``: ``questions_import``, the pending uploads of the admin's preview (``import_upload_*``);
- ``_common``: limits, the "has this question been used?" hook (``register_used_checker``), audit, roles.

Domain errors: ``questionbank.errors``.
"""
