"""The pure core of the provider: batch models, building, chunking and status parsing. No Airflow here."""
