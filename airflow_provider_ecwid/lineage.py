"""The store's catalog as an Airflow Asset, and the OpenLineage datasets of the batch and sync operators.

**Assets.** :func:`ecwid_catalog_asset` names a store's catalog ``ecwid://{store_id}/products`` (a Dataset on
Airflow 2.11, an Asset on 3, through ``airflow.providers.common.compat.assets``). Give it to the task that
finishes an import as ``outlets=[ecwid_catalog_asset(store_id)]`` and schedule a downstream DAG with
``schedule=[ecwid_catalog_asset(store_id)]``. The operators do not add the outlet themselves: outlets are part of
the serialized DAG, fixed when the DAG file is parsed, while the store ID lives in the connection, which a DAG
file should not read at parse time (a database or API call on every parse). So the DAG author names the store,
e.g. from an environment variable, and at run time the operators warn when a declared catalog asset names
another store than the connection's (:func:`foreign_catalog_outlets`).

**OpenLineage.** The operators' ``get_openlineage_facets_on_complete`` calls :func:`operator_lineage`: the input
is the feed when it is a file or URL (data handed over in memory, e.g. from an upstream task's XCom, has no
dataset of its own: OpenLineage links it through the parent run), the output is the store's catalog (namespace
``ecwid://{store_id}``, name ``products``), with row counts as statistics facets. OpenLineage's classes are
imported only there, so the provider works without the OpenLineage provider installed (then Airflow never
asks for lineage).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_ecwid.errors import EcwidConfigError

SCHEME = "ecwid"
CATALOG_NAME = "products"


def ecwid_catalog_uri(store_id: int | str) -> str:
    """
    The URI of a store's catalog: ``ecwid://{store_id}/products``.

    :param store_id: the store's numeric id.
    """
    text = str(store_id).strip()
    if not text.isdigit():
        raise EcwidConfigError(f"The Ecwid store id must be a number, got {text!r}")
    return f"{SCHEME}://{text}/{CATALOG_NAME}"


def ecwid_entity_uri(store_id: int | str, entity: str) -> str:
    """
    The URI of one of a store's entities: ``ecwid://{store_id}/{entity}`` (``products`` is the catalog).

    :param store_id: the store's numeric id.
    :param entity: ``orders``, ``products``, ``customers`` or ``categories``.
    """
    return ecwid_catalog_uri(store_id).removesuffix(f"/{CATALOG_NAME}") + f"/{entity}"


def ecwid_entity_asset(store_id: int | str, entity: str, **kwargs: Any) -> Any:
    """
    One of a store's entities as an Airflow Asset (a Dataset on Airflow 2.11), e.g. the orders an export reads.

    :param store_id: the store's numeric id.
    :param entity: ``orders``, ``products``, ``customers`` or ``categories``.
    :param kwargs: more keyword arguments for the Asset.
    """
    from airflow.providers.common.compat.assets import Asset

    return Asset(uri=ecwid_entity_uri(store_id, entity), **kwargs)


def ecwid_catalog_asset(store_id: int | str, **kwargs: Any) -> Any:
    """
    A store's catalog as an Airflow Asset (a Dataset on Airflow 2.11), for ``outlets`` and ``schedule``.

    :param store_id: the store's numeric id (the connection's Store ID).
    :param kwargs: more keyword arguments for the Asset (e.g. ``extra``).
    """
    from airflow.providers.common.compat.assets import Asset

    return Asset(uri=ecwid_catalog_uri(store_id), **kwargs)


def foreign_catalog_outlets(outlets: Iterable[Any], store_id: int | str) -> list[str]:
    """
    The URIs of the Ecwid catalog assets among ``outlets`` that name another store than ``store_id``.

    :param outlets: a task's outlets (assets, aliases, anything).
    :param store_id: the store the task writes to.
    """
    own = ecwid_catalog_uri(store_id)
    uris = (str(getattr(outlet, "uri", "")) for outlet in outlets or ())
    return [uri for uri in uris if uri.startswith(f"{SCHEME}://") and uri != own]


def feed_dataset_name(data: Any) -> tuple[str, str] | None:
    """
    The OpenLineage (namespace, name) of a feed given as a path or URL; None for data handed over in memory.

    Local paths and ``file://`` URLs are ``("file", absolute path)``; other URLs ``("scheme://authority", path)``,
    as OpenLineage's naming convention has them (e.g. ``("s3://bucket", "feeds/catalog.csv")``).

    :param data: the operator's (rendered) ``data``.
    """
    if not isinstance(data, (str, os.PathLike)):
        return None
    text = os.fspath(data)
    if "://" not in text or text.startswith("file://"):
        return "file", os.path.abspath(text.removeprefix("file://"))
    url = urlsplit(text)
    return f"{url.scheme}://{url.netloc}", url.path.lstrip("/")


def operator_lineage(data: Any, store_id: str | None, rows_read: int | None, rows_written: int | None) -> Any:
    """
    The OpenLineage ``OperatorLineage`` of a batch or sync task (needs the OpenLineage provider).

    :param data: the operator's rendered ``data`` (a path or URL becomes the input dataset).
    :param store_id: the store written to; None when it is not known (no output dataset then).
    :param rows_read: the rows read from the input, when known.
    :param rows_written: the requests that reached the catalog (sent, or completed when the task waited);
        None when nothing was sent (a dry run): then the catalog is not an output.
    """
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    inputs = []
    feed = feed_dataset_name(data)
    if feed is not None:
        input_facets = _input_statistics(rows_read)
        inputs.append(InputDataset(namespace=feed[0], name=feed[1], inputFacets=input_facets))
    outputs = []
    if store_id is not None and rows_written is not None:
        statistics = OutputStatisticsOutputDatasetFacet(rowCount=rows_written)
        outputs.append(
            OutputDataset(
                namespace=f"{SCHEME}://{store_id}",
                name=CATALOG_NAME,
                outputFacets={"outputStatistics": statistics},
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs)


def _input_statistics(rows_read: int | None) -> dict[str, Any]:
    """``{"inputStatistics": ...}`` where the OpenLineage client has that facet (1.23+) and the count is known."""
    if rows_read is None:
        return {}
    try:
        from openlineage.client.generated.input_statistics_input_dataset import InputStatisticsInputDatasetFacet
    except ImportError:  # an older OpenLineage client: no input statistics
        return {}
    return {"inputStatistics": InputStatisticsInputDatasetFacet(rowCount=rows_read)}


def export_lineage(store_id: str, entity: str, output: str | None, rows: int | None) -> Any:
    """
    The OpenLineage ``OperatorLineage`` of an export: the store's entity -> the file (needs the OpenLineage provider).

    :param store_id: the store read.
    :param entity: the entity exported.
    :param output: the file's path or URL (None: the rows went to XCom, no output dataset).
    :param rows: the rows written, when known.
    """
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    inputs = [InputDataset(namespace=f"{SCHEME}://{store_id}", name=entity, inputFacets=_input_statistics(rows))]
    outputs = []
    target = feed_dataset_name(output) if output is not None else None
    if target is not None:
        facets: dict[str, Any] = {}
        if rows is not None:
            facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=rows)
        outputs.append(OutputDataset(namespace=target[0], name=target[1], outputFacets=facets))
    return OperatorLineage(inputs=inputs, outputs=outputs)
