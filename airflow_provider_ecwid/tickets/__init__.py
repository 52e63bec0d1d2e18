"""Chunks -> tickets -> a verdict: submitting, waiting, accounting for every request, the report and ``fail_on``."""
