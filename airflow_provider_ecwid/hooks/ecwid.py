"""EcwidHook: an Airflow Connection of type ``ecwid`` turned into an :class:`EcwidClient`."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from functools import cached_property
from typing import Any, cast

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.api.connection import EcwidConnectionSettings, settings_from_connection
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidError
from airflow_provider_ecwid.provider_info import CONNECTION_FIELDS, UI_FIELD_BEHAVIOUR

#: Airflow 2.11 to 3.1 set an attribute on cryptography's MultiFernet, which cryptography 51 no longer allows; with
#: a Fernet key set, no connection with a password can then be read (Airflow 3.2 wraps the Fernet and runs with 51).
#: Airflow's own constraints files pin a cryptography that works (so do this repository's); the provider cannot state
#: that condition in its metadata (no marker can name the installed Airflow), so it names it where a user meets it.
FERNET_BREAKAGE = (
    "Airflow could not decrypt the connection {conn_id!r}: this Airflow cannot use the installed cryptography "
    "(Airflow 2.11 to 3.1 need cryptography<51). Install Airflow with its constraints file for your Airflow and "
    "Python version, as Airflow's installation guide says (or pip install 'cryptography<51'), then restart."
)


def check_airflow_can_decrypt(conn_id: str) -> None:
    """
    Fail with the known cause where Airflow cannot build its Fernet, so cannot decrypt any connection.

    Airflow's ``get_connection`` logs that failure and goes on to say only that the connection "isn't defined";
    this check asks Airflow's Fernet first and names the cause and the fix instead.

    :param conn_id: the connection being read, for the message.
    :raises EcwidConfigError: when Airflow's Fernet cannot be built with the installed cryptography.
    """
    try:
        from airflow.models.crypto import get_fernet
    except ImportError:  # an Airflow without core's crypto module: nothing to check
        return
    try:
        get_fernet()
    except AttributeError as error:
        if "is_encrypted" not in str(error):
            raise
        raise EcwidConfigError(FERNET_BREAKAGE.format(conn_id=conn_id)) from error


def _translatable() -> Callable[[str], Any]:
    """Flask-Babel's lazy_gettext where the web server has it (Airflow 2), else plain strings (Airflow 3 UI)."""
    try:
        from flask_babel import lazy_gettext
    except ImportError:
        return str
    return cast("Callable[[str], Any]", lazy_gettext)


class EcwidHook(BaseHook):
    """
    Interact with one Ecwid store through its REST API.

    The connection holds the store id (login), the ``secret_...`` token (password) and optional extras
    ``base_url``, ``timeout``, ``rate_limit_per_minute``, ``max_retries``, ``max_retry_wait`` and
    ``rate_limit_storage`` (where every client of the token shares its budget). The client is built once per hook
    and reused.

    :param ecwid_conn_id: the Airflow connection id of type ``ecwid``.
    """

    conn_name_attr = "ecwid_conn_id"
    default_conn_name = "ecwid_default"
    conn_type = "ecwid"
    hook_name = "Ecwid"

    def __init__(self, ecwid_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ecwid_conn_id = ecwid_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """
        Relabel and hide fields of the connection form.

        Airflow 2.11 to 3.1 read this; Airflow 3.2+ reads ``ui-field-behaviour`` from the provider info instead: the
        same form, with snake_case keys, since those versions validate it against their
        ``customized_form_field_behaviours.schema.json`` (which requires ``hidden_fields`` and ``relabeling``) and
        drop a dict that does not match.
        """
        return {key.replace("-", "_"): copy.deepcopy(value) for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """
        The extra fields of the connection form, with their labels and help texts.

        Airflow 2.11 to 3.1 read this (3.0 and 3.1 through stand-ins for the WTForms classes, so FAB need not be
        installed); Airflow 3.2+ reads ``conn-fields`` from the provider info instead. Both come from
        :data:`~airflow_provider_ecwid.provider_info.CONNECTION_FIELDS`. Whole numbers get an ``IntegerField``;
        seconds, which may have a fraction, a ``StringField`` (WTForms' FloatField is not one Airflow allows).
        """
        from wtforms import IntegerField, StringField
        from wtforms.validators import NumberRange, Optional

        label = _translatable()
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        except ImportError:  # Airflow 3 without the FAB provider: the UI renders from the field's schema
            widget: dict[str, Any] = {}
        else:
            widget = {"widget": BS3TextFieldWidget()}

        fields: dict[str, Any] = {}
        for name, spec in CONNECTION_FIELDS.items():
            kinds = spec["schema"]["type"]
            if "integer" in kinds:
                fields[name] = IntegerField(
                    label(spec["label"]),
                    validators=[Optional(), NumberRange(min=0)],
                    description=spec.get("description", ""),
                    **widget,
                )
            else:
                fields[name] = StringField(
                    label(spec["label"]),
                    validators=[Optional()],
                    description=spec.get("description", ""),
                    **widget,
                )
        return fields

    @cached_property
    def settings(self) -> EcwidConnectionSettings:
        """The checked settings of the connection."""
        check_airflow_can_decrypt(self.ecwid_conn_id)
        conn = self.get_connection(self.ecwid_conn_id)
        return settings_from_connection(
            self.ecwid_conn_id,
            login=conn.login,
            password=conn.password,
            host=conn.host,
            extra=conn.extra_dejson,
        )

    @cached_property
    def client(self) -> EcwidClient:
        """The store's client, built on first use and cached."""
        return self.settings.make_client()

    def get_conn(self) -> EcwidClient:
        """Return the cached :class:`EcwidClient`."""
        return self.client

    async def aget_conn(self) -> EcwidClient:
        """
        Return the cached :class:`EcwidClient`, reading the connection without blocking the event loop.

        For triggers: the connection comes through Airflow's async connection API, and opening the client's shared
        rate budget (a SQLite file, Redis or PostgreSQL) runs in a thread. The same checks as :meth:`get_conn`.
        """
        if "client" in self.__dict__:
            return self.client
        from airflow.providers.common.compat.connection import get_async_connection

        await asyncio.to_thread(check_airflow_can_decrypt, self.ecwid_conn_id)
        conn = await get_async_connection(self.ecwid_conn_id)
        self.__dict__["settings"] = settings_from_connection(
            self.ecwid_conn_id, login=conn.login, password=conn.password, host=conn.host, extra=conn.extra_dejson
        )
        return await asyncio.to_thread(lambda: self.client)

    def test_connection(self) -> tuple[bool, str]:
        """Read ``GET /profile``; return ``(ok, message)`` without raising. The message never holds the token."""
        try:
            profile = self.client.get_profile()
        except EcwidError as err:
            return False, self._without_token(str(err))
        except Exception as err:
            return False, self._without_token(f"{type(err).__name__}: {err}")
        name = (profile.get("settings") or {}).get("storeName") or profile.get("generalInfo", {}).get("storeUrl", "")
        return True, f"Connected to Ecwid store {self.settings.store_id} {name}".strip()

    def _without_token(self, text: str) -> str:
        settings = self.__dict__.get("settings")  # only if already read: never fetch the connection here
        token = settings.token if isinstance(settings, EcwidConnectionSettings) else None
        return text.replace(token, "***") if token else text
