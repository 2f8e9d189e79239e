"""Write-side operations of contests (one home for each rule). Import from the submodules:

- ``contests.services.contests``: contest_clone, round_close
- ``contests.services.registrations``: registration_create, registration_correct
- ``contests.services.attempts``: attempt_start, attempt_state, attempt_answer, attempt_answers_store_batch,
  attempt_set_prediction, attempt_next_question, attempt_submit, attempts_sweep_expired
- ``contests.services.overrides``: override_extra_time, override_extra_attempt, round_extend
"""
