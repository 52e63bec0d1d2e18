"""Rows -> checked requests -> encoded chunks: sources, building (by row and by Arrow column), the plan. No Airflow."""
