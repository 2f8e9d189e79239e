"""Write side of judging: ``judging.services.approval`` (propose / return / approve / publish / revise a
stored ranking) and ``judging.services.essays`` (anonymous essay assignments, grades, final marks)."""
