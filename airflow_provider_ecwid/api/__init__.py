"""HTTP to Ecwid: the client, its retry rules, the rate budget, connection settings and status answers (no Airflow)."""
