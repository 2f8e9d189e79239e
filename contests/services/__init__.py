"""Write-side operations of contests (one home for each rule). Import from the submodules:

- ``contests.services.contests``: contest_clone, round_close
- ``contests.services.registrations``: registration_create, registration_correct
- ``contests.services.attempts.start``: attempt_start (the blueprint draw, snapshots)
- ``contests.services.attempts.answers``: attempt_answer, attempt_answers_store_batch, attempt_set_prediction,
  attempt_next_question
- ``contests.services.attempts.finish``: attempt_submit, attempt_finalise_if_expired, attempts_sweep_expired,
  attempts_finalise_expired_for_user
- ``contests.services.attempts.state``: attempt_state, question_payload
- ``contests.services.overrides``: override_extra_time, override_extra_attempt, round_extend
"""
