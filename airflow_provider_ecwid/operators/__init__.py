"""The provider's operators.

Importing them lets Airflow's XCom carry pandas 3 DataFrames on Airflow 2.11 to 3.2, whose serializer knows only
pandas 2's class name: see :func:`airflow_provider_ecwid.compat.carry_pandas3_dataframes_in_xcom`.
"""

from airflow_provider_ecwid.compat import carry_pandas3_dataframes_in_xcom

carry_pandas3_dataframes_in_xcom()
