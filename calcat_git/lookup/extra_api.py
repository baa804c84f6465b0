"""What EXtra's ``extra.calibration`` keeps module-wide, answered by calcat-git: which
catalog to read (``setup_catalog``, EXtra's ``setup_client``), where constant files live
(``set_default_caldb_root``), and how times are read.

Times, as EXtra passes them to CALCAT: an aware ``datetime`` or an ISO string with an
offset is taken as it is; a *naive* one (``'2022-09-01 13:26:48.00'``) is read in the
facility's time zone, as CALCAT reads it, with a :class:`NaiveTimeWarning` naming the zone;
an ``extra_data`` run stands for its first train's timestamp; a ``date`` is its midnight.
Only this EXtra-named API reads naive times: ``Catalog`` and the command line refuse them.
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError, NotFoundError, RepositoryError
from calcat_git.timeutil import FACILITY_ZONE, ensure_utc, facility_zone, is_naive, parse_facility_time

if TYPE_CHECKING:
    from calcat_git.catalog.published import SiteCatalog

ENV_CATALOG = "CALCAT_GIT_CATALOG"
EXTRA_STORES = (Path("/common/cal/caldb_store"), Path("/gpfs/exfel/d/cal/caldb_store"))  # EXtra's defaults

_catalog: Catalog | SiteCatalog | None = None
_default_caldb_root: Path | None = None


class CatalogNotSetError(NotFoundError):
    """No catalog was chosen for the EXtra-named API."""


class StoreFileError(NotFoundError):
    """A constant's file is not where the store should hold it."""


class NaiveTimeWarning(UserWarning):
    """A time without zone was read in the facility's zone, as CALCAT reads it."""


def setup_catalog(path_or_url: str | os.PathLike[str] | Catalog | SiteCatalog, *, branch: str | None = None
                  ) -> Catalog | SiteCatalog:
    """Choose the catalog the EXtra-named API reads (EXtra's ``setup_client``): a catalog
    folder (a git repository; ``branch`` defaults to ``main``), a published site's URL
    (``https://…``, read through ``Catalog.from_site``), or an opened catalog."""
    global _catalog
    _catalog = open_catalog(path_or_url, branch=branch)
    return _catalog


def open_catalog(where: str | os.PathLike[str] | Catalog | SiteCatalog, *, branch: str | None = None
                 ) -> Catalog | SiteCatalog:
    if not isinstance(where, str | os.PathLike):
        published = sys.modules.get("calcat_git.catalog.published")  # a SiteCatalog exists once its module is loaded
        if isinstance(where, Catalog) or (published is not None and isinstance(where, published.SiteCatalog)):
            return where
        raise InvalidInputError(f"cannot read a catalog from {type(where).__name__} {where!r}: pass a catalog's "
                                "folder, a published site's URL or folder, or an opened Catalog")
    text = os.fspath(where)
    if text.startswith(("http://", "https://")):
        return Catalog.from_site(text)
    folder = Path(text)
    if (folder / "api" / "v1").is_dir():
        return Catalog.from_site(folder)  # a downloaded site
    if not (folder / "registry").is_dir():
        raise NotFoundError(f"no catalog at {text!r} (no registry/ folder there): pass setup_catalog() the folder of a "
                            "calcat-git catalog (a git clone holding registry/), or a published site's URL or folder")
    try:
        return Catalog.open(folder, branch=branch)
    except RepositoryError as exc:
        if exc.__cause__ is None:  # a git repository without the branch or commits asked: the message says what to pass
            raise
        what = str(exc).rsplit(": ", 1)[0]  # the problem, without the advice given to Catalog.open
        raise RepositoryError(f"{text!r} has a registry/ folder but cannot be read as a catalog ({what}): "
                              "pass setup_catalog() a git clone of the catalog") from None


def get_catalog(client: Any = None) -> Catalog | SiteCatalog:
    """The catalog to read: ``client`` when given (a ``Catalog``, or where one is), else
    the one of ``setup_catalog``, else ``$CALCAT_GIT_CATALOG``, else the current folder
    when it is a catalog (holds ``registry/``)."""
    global _catalog
    if client is not None:
        return open_catalog(client)
    if _catalog is None:
        if os.environ.get(ENV_CATALOG):
            _catalog = open_catalog(os.environ[ENV_CATALOG])
        elif Path("registry").is_dir():
            return Catalog.open(".")  # not kept: the folder is the one current at each call
        else:
            raise CatalogNotSetError(
                "no catalog chosen: call calcat_git.setup_catalog('/path/to/catalog') (a catalog folder, or a "
                f"published site's URL), set {ENV_CATALOG}, pass client=Catalog.open(...), or work inside a catalog")
    return _catalog


def reset_catalog() -> None:
    """Forget the catalog of ``setup_catalog`` (the next use reads $CALCAT_GIT_CATALOG again)."""
    global _catalog
    _catalog = None


def set_default_caldb_root(p: str | os.PathLike[str] | None) -> None:
    """Override the default root folder of constant files (``caldb_root``)."""
    global _default_caldb_root
    _default_caldb_root = None if p is None else Path(p)


def get_default_caldb_root() -> Path:
    """The root folder of constant files: ``set_default_caldb_root``'s, else
    ``$CALCAT_GIT_STORE``, else the ``store:`` of the chosen catalog's ``calcat-git.yaml``,
    else EXtra's defaults at European XFEL (``/common/cal/caldb_store``, ``/gpfs/…``)."""
    return _caldb_root(_catalog.root if isinstance(_catalog, Catalog) else None)


def _caldb_root(catalog_root: Path | None) -> Path:
    if _default_caldb_root is not None:
        return _default_caldb_root
    from calcat_git.store.paths import store_root  # imported on use: look-ups need no store

    try:
        return store_root(None, catalog_root)
    except NotFoundError:
        pass
    for candidate in EXTRA_STORES:
        if candidate.is_dir():
            return candidate
    raise StoreFileError(
        "no constant store known: pass caldb_root='/path/to/store' (the folder constant files are relative to), "
        "call calcat_git.set_default_caldb_root(...), set CALCAT_GIT_STORE, or write `store: DIR` into the "
        "catalog's calcat-git.yaml")


def caldb_root_of(caldb_root: str | os.PathLike[str] | None, catalog_root: Path | None) -> Path:
    """The store root of a constant read from the catalog at ``catalog_root``: ``caldb_root``
    when given, else the default (that catalog's store rather than the chosen catalog's)."""
    return Path(caldb_root) if caldb_root is not None else _caldb_root(catalog_root)


def extra_time(value: Any, what: str = "event_at") -> datetime | None:
    """A time given to the EXtra-named API, in UTC (see the module doc); None stays None."""
    if value is None:
        return None
    if hasattr(value, "train_timestamps"):  # an extra_data DataCollection: its first train
        return run_start(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            _warn_naive(value.isoformat(), what)
            return ensure_utc(value.replace(tzinfo=facility_zone()), what)
        return ensure_utc(value, what)
    if isinstance(value, date):
        return extra_time(datetime.combine(value, time()), what)
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} ({value!r}) must be a string, datetime or date object, or an extra_data run")
    if is_naive(value):
        _warn_naive(value, what)
        return parse_facility_time(value, FACILITY_ZONE, what)
    return ensure_utc(value, what)


def _warn_naive(text: str, what: str) -> None:
    warnings.warn(f"{what} {text!r} has no time zone: read in the facility's zone {FACILITY_ZONE}, as CALCAT "
                  "reads it (add an offset such as +02:00, or Z for UTC, to say which time you mean)",
                  NaiveTimeWarning, stacklevel=4)


def run_start(run: Any) -> datetime:
    """The first train's timestamp of an ``extra_data`` run (RAW format 1.0 or newer)."""
    stamps = run.train_timestamps(pydatetime=True)
    first = next((t for t in stamps if t is not None), None)
    if first is None:
        raise InvalidInputError("the run has no train timestamps (RAW data older than format 1.0?): "
                                "pass event_at= instead")
    return ensure_utc(first if first.tzinfo else first.replace(tzinfo=UTC), "train timestamp")  # RAW stamps are UTC
