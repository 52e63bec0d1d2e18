"""What an Ecwid task does inside Airflow at run time, whatever its class: wait in the worker or defer to the
trigger (``wait_or_defer``), conclude with a report, a results file and a verdict (``finish``), and open files by
path or URL (``storage``).

Not to be confused with ``tickets/``, the Airflow-free core below it: submitting batches and following their
tickets, which this package calls.
"""
