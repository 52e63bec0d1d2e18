"""The Ecwid hook: an Airflow connection turned into a client."""
