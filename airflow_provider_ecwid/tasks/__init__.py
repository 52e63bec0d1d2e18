"""What the provider's Airflow classes share: waiting or deferring on tickets, the results file, files by URL."""
