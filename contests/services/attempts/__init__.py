"""The attempt lifecycle, decided on the server, one verb family per module:

- ``start``: ``attempt_start`` (checks, the blueprint draw, snapshots without keys);
- ``answers``: ``attempt_answer``, ``attempt_answers_store_batch``, ``attempt_set_prediction``,
  ``attempt_next_question`` (one question at a time);
- ``finish``: ``attempt_submit``, ``attempt_finalise_if_expired``, ``attempts_sweep_expired``,
  ``attempts_finalise_expired_for_user``, the scoring of finished attempts;
- ``state``: ``attempt_state`` (the exam socket's snapshot), ``question_payload``.

Locking contract (PostgreSQL; SQLite serialises writers anyway):
- ``attempt_start`` locks the registration row, so one person's concurrent starts serialise and the
  second one resumes the first attempt (also guaranteed by the ``attempt_one_in_progress`` constraint).
- Every write to an attempt's answers or fields locks the attempt row first (``FOR NO KEY UPDATE`` for
  answers and predictions, ``FOR UPDATE`` for submit), in ascending id order within a batch. So an answer
  is either stored before the submit reads the answers (and counted) or sees the attempt finished and is
  rejected — an acknowledged answer is never left out of the score.
- The sweeper locks expired attempts with ``SKIP LOCKED`` and takes what a live batch is not holding.

Time: every function takes one ``now``. Answers are accepted until ``deadline + grace``; the finish time
of an attempt is ``min(now, deadline)`` — for an automatic submit exactly the deadline.
"""
