"""Backup and restore of the database and the media files (备份与恢复), docs/reliability.md.

A backup is a folder:

- ``db.sqlite3`` (SQLite, written with SQLite's online backup API: a consistent copy while the
  server keeps running) or ``db.dump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``media/``: every file of the default storage (a local folder), copied AFTER the database, so
  every file the database copy names is already on disk (files are stored before the rows that
  name them commit; see cases.photos). Files stored after the database copy are extra, harmless;
- ``manifest.json``: when, which engine, and the files the database copy names, with their sizes.

``restore`` loads the database copy into the configured database, which must be empty of people
and cases (unless forced), copies the media back, and checks that every file the restored rows
name exists with the size the manifest recorded.
"""

import datetime as dt
import glob
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections, models

MANIFEST = "manifest.json"
SQLITE_FILE = "db.sqlite3"
PG_FILE = "db.dump"
MEDIA_DIR = "media"


class BackupError(Exception):
    """The backup or restore cannot be done (the message says why)."""


@dataclass
class Report:
    database: str
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)


def _engine(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database engine: {vendor}")
    return vendor


def _media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise BackupError(
            "media are in an object store: back them up with the store's own versioning "
            "(use --skip-media here)"
        )
    return Path(default_storage.location)


def referenced_files(alias: str = "default") -> dict[str, int | None]:
    """Every file name a FileField of any model names in the database, with its size on disk
    (None when the file is missing)."""
    names: dict[str, int | None] = {}
    for model in apps.get_models():
        file_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        for field_name in file_fields:
            for name in (
                model._default_manager.using(alias)
                .exclude(**{field_name: ""})
                .values_list(field_name, flat=True)
            ):
                if name:
                    names[name] = None
    for name in names:
        if default_storage.exists(name):
            names[name] = default_storage.size(name)
    return names


# --- PostgreSQL tools --------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest under /usr/lib/postgresql/*/bin (Debian)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise BackupError(f"{name} not found on PATH nor under /usr/lib/postgresql/*/bin")
    return candidates[-1]


def pg_command(tool: str, db: dict, *args: str) -> tuple[list[str], dict[str, str]]:
    """The argument list and environment for a PostgreSQL client tool against ``db`` (settings)."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return [pg_tool(tool), *args, "--dbname", db["NAME"]], env


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[:2000]}")


# --- backup -------------------------------------------------------------------------------------


def backup(target: Path, alias: str = "default", *, media: bool = True) -> Report:
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    engine = _engine(alias)
    media_root = _media_root() if media else None
    target.mkdir(parents=True, exist_ok=True)
    connection = connections[alias]
    if engine == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target / SQLITE_FILE)
        try:
            connection.connection.backup(destination)  # online backup API: one consistent copy
        finally:
            destination.close()
        database = SQLITE_FILE
    else:
        argv, env = pg_command("pg_dump", connection.settings_dict, "--format=custom", "--no-owner")
        _run([*argv, "--file", str(target / PG_FILE)], env)
        database = PG_FILE
    # The names the copy holds, read from the copy itself where we can (SQLite), so a row added
    # after the copy is not expected; on PostgreSQL the dump came first, the list after it.
    names = _names_in_copy(target / SQLITE_FILE) if engine == "sqlite" else referenced_files(alias)
    report = Report(database=database)
    if media_root is not None and media_root.exists():
        shutil.copytree(media_root, target / MEDIA_DIR, dirs_exist_ok=True)
    files = {}
    for name in sorted(names):
        copy = target / MEDIA_DIR / name
        if media_root is not None and copy.is_file():
            files[name] = copy.stat().st_size
            report.files += 1
            report.bytes += files[name]
        else:
            report.missing.append(name)
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "database": database,
        "media": media_root is not None,
        "files": files,
        "missing": report.missing,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return report


def _names_in_copy(path: Path) -> set[str]:
    """The file names the FileFields of the SQLite copy name (read with plain SQL)."""
    names: set[str] = set()
    copy = sqlite3.connect(path)
    try:
        for model in apps.get_models():
            table = model._meta.db_table
            for f in model._meta.concrete_fields:
                if isinstance(f, models.FileField):
                    rows = copy.execute(f'SELECT "{f.column}" FROM "{table}" WHERE "{f.column}" <> ""')
                    names.update(row[0] for row in rows if row[0])
    finally:
        copy.close()
    return names


# --- restore ------------------------------------------------------------------------------------


def holds_data(alias: str = "default") -> bool:
    """Whether the database already holds people or cases (a restore would overwrite them)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    case_model = apps.get_model("cases", "Case") if apps.is_installed("cases") else None
    try:
        if user_model._default_manager.using(alias).exists():
            return True
        return bool(case_model and case_model._default_manager.using(alias).exists())
    except Exception:  # no tables yet: an empty database
        return False


def restore(source: Path, alias: str = "default", *, media: bool = True, force: bool = False) -> Report:
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a backup folder")
    manifest = json.loads(manifest_path.read_text())
    engine = _engine(alias)
    if manifest["engine"] != engine:
        raise BackupError(f"the backup is of {manifest['engine']}, the database is {engine}")
    if holds_data(alias) and not force:
        raise BackupError(
            "the database already holds people or cases: restore into an empty one (or --force)"
        )
    media_root = _media_root() if media and manifest.get("media") else None
    connection = connections[alias]
    if engine == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(source / SQLITE_FILE)
        try:
            copy.backup(connection.connection)  # replaces the whole database, schema included
        finally:
            copy.close()
    else:
        argv, env = pg_command(
            "pg_restore",
            connection.settings_dict,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
        )
        _run([*argv, str(source / PG_FILE)], env)
    if media_root is not None and (source / MEDIA_DIR).is_dir():
        shutil.copytree(source / MEDIA_DIR, media_root, dirs_exist_ok=True)
    report = Report(database=manifest["database"])
    expected: dict[str, int] = manifest["files"]
    for name, size in referenced_files(alias).items():
        if size is None or (name in expected and expected[name] != size):
            report.missing.append(name)
        else:
            report.files += 1
            report.bytes += size
    return report
