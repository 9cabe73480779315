"""Pipelines and their versions: create (from IR or an uploaded package), read, list,
delete. Plain functions over a `Platform`; the REST routes are shells over these.

Every IR is validated before anything is stored, and a pipeline created together with
its first version is removed again if the version cannot be stored: a bad request leaves
no half-written record.

Each function takes the caller's `Principal` (the admin unless given): pipelines of no
namespace are shared, read by every caller and changed by the admin only; a namespace
token reaches its namespace's and the shared ones, and is told any other does not exist
(NotFound, worded as the store words an unknown id).
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

from dagyard import ir
from dagyard.errors import DagyardError, IRError, NotFound, UsageError
from dagyard.service.platform import Platform
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.listing import ListQuery, Operation, Page, Predicate
from dagyard.store.records import Pipeline, PipelineVersion

MAX_PACKAGE_BYTES = 32 * 1024 * 1024
PACKAGE_SUFFIXES = (".yaml", ".yml", ".json", ".zip", ".tar.gz", ".tgz")


def read_package(filename: str, data: bytes) -> ir.PipelineDocument:
    """The validated IR in an uploaded package: a .yaml/.yml/.json file, or a .zip or
    .tar.gz holding exactly one such file."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise UsageError(
            f"The package {filename!r} is {len(data)} bytes, more than the "
            f"{MAX_PACKAGE_BYTES} allowed; upload the compiled pipeline YAML alone."
        )
    lower = filename.lower()
    if lower.endswith((".zip", ".tar.gz", ".tgz")):
        filename, data = _unpack(filename, data)
    elif not lower.endswith((".yaml", ".yml", ".json")):
        raise UsageError(
            f"Cannot read {filename!r}: upload a compiled pipeline with one of the "
            f"suffixes {', '.join(PACKAGE_SUFFIXES)}."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IRError(f"{filename!r} is not UTF-8 text; upload a compiled pipeline YAML.") from None
    return _load(lambda: ir.loads(text), filename)


def spec_document(spec: Any, platform_spec: Any = None) -> ir.PipelineDocument:
    """The validated IR of a JSON body: a PipelineSpec, or kfp.Client's
    `{pipeline_spec, platform_spec}` pair."""
    if isinstance(spec, dict) and "pipeline_spec" in spec and "root" not in spec:
        spec, platform_spec = spec["pipeline_spec"], spec.get("platform_spec")
    if not isinstance(spec, dict):
        raise IRError(f"pipeline_spec must be a PipelineSpec object, not {type(spec).__name__}.")
    if platform_spec is not None and not isinstance(platform_spec, dict):
        raise IRError("platform_spec must be an object with 'platforms'.")
    return _load(lambda: ir.from_dict(spec, platform_spec), "pipeline_spec")


def create_pipeline(
    platform: Platform,
    *,
    name: str,
    display_name: str = "",
    description: str = "",
    namespace: str = "",
    tags: dict[str, str] | None = None,
    principal: Principal = ADMIN,
) -> Pipeline:
    """A new pipeline without versions, in `namespace` (none named: the caller's; the
    admin's is shared); AlreadyExists if the name is taken there."""
    if not name.strip():
        raise UsageError("A pipeline needs a name; give one (e.g. the file name).")
    namespace = principal.default_namespace(namespace)
    principal.check_write(namespace, f"pipeline {name!r}")
    return platform.store.create_pipeline(
        Pipeline(
            pipeline_id=uuid.uuid4().hex,
            name=name,
            display_name=display_name or name,
            description=description,
            namespace=namespace,
            tags=dict(tags or {}),
            created_at=datetime.now(UTC),
        )
    )


def create_pipeline_with_version(
    platform: Platform,
    document: ir.PipelineDocument,
    *,
    name: str,
    display_name: str = "",
    description: str = "",
    namespace: str = "",
    version_name: str = "",
    code_source_url: str = "",
    principal: Principal = ADMIN,
) -> tuple[Pipeline, PipelineVersion]:
    """A new pipeline and its first version, both or neither."""
    pipeline = create_pipeline(
        platform,
        name=name,
        display_name=display_name,
        description=description,
        namespace=namespace,
        principal=principal,
    )
    try:
        version = _store_version(
            platform,
            pipeline.pipeline_id,
            document,
            name=version_name or name,
            description=description,
            code_source_url=code_source_url,
        )
    except BaseException:
        platform.store.delete_pipeline(pipeline.pipeline_id)
        raise
    return pipeline, version


def create_version(
    platform: Platform,
    pipeline_id: str,
    document: ir.PipelineDocument,
    *,
    name: str = "",
    display_name: str = "",
    description: str = "",
    code_source_url: str = "",
    principal: Principal = ADMIN,
) -> PipelineVersion:
    """A new version of a pipeline from validated IR; NotFound if there is no pipeline
    (that the caller can see), Forbidden if the caller may not change it."""
    _writable_pipeline(platform, pipeline_id, principal)
    return _store_version(
        platform,
        pipeline_id,
        document,
        name=name,
        display_name=display_name,
        description=description,
        code_source_url=code_source_url,
    )


def _store_version(
    platform: Platform,
    pipeline_id: str,
    document: ir.PipelineDocument,
    *,
    name: str,
    display_name: str = "",
    description: str = "",
    code_source_url: str = "",
) -> PipelineVersion:
    now = datetime.now(UTC)
    name = name or f"{document.name or 'version'}-{now:%Y%m%d-%H%M%S-%f}"
    return platform.store.create_pipeline_version(
        PipelineVersion(
            pipeline_version_id=uuid.uuid4().hex,
            pipeline_id=pipeline_id,
            name=name,
            pipeline_spec=document.raw,
            display_name=display_name or name,
            description=description,
            code_source_url=code_source_url,
            platform_spec=document.platform_spec,
            created_at=now,
        )
    )


def get_pipeline(platform: Platform, pipeline_id: str, *, principal: Principal = ADMIN) -> Pipeline:
    return _visible_pipeline(platform, pipeline_id, principal)


def get_pipeline_by_name(
    platform: Platform, name: str, namespace: str = "", *, principal: Principal = ADMIN
) -> Pipeline:
    """The pipeline called `name` in `namespace`. A namespace token naming no namespace
    finds its own namespace's pipeline of that name, else the shared one."""
    if principal.admin or namespace:
        places = [namespace] if principal.visible(namespace, shared=True) else []
        missing = f"No pipeline named {name!r} in namespace {namespace!r}."
    else:
        places = [principal.default_namespace(""), ""]
        missing = (
            f"No pipeline named {name!r} in namespace {places[0]!r} nor among the shared pipelines."
        )
    for place in places:
        found = platform.store.find_pipeline(name, place)
        if found is not None:
            return found
    raise NotFound(missing)


def list_pipelines(
    platform: Platform,
    query: ListQuery,
    *,
    namespace: str | None = None,
    principal: Principal = ADMIN,
) -> Page[Pipeline]:
    """The pipelines of `namespace` (None: all). A namespace token lists its own
    namespace's and the shared ones, in one page."""
    namespace = principal.listing_namespace(namespace)
    if principal.admin or namespace is None:
        return platform.store.page_pipelines(query, namespace=namespace)
    mine_or_shared = Predicate("namespace", Operation.IN, (namespace, ""))
    scoped = dataclasses.replace(query, predicates=(*query.predicates, mine_or_shared))
    return platform.store.page_pipelines(scoped)


PIPELINE_EDITABLE = ("name", "display_name", "description", "tags")
VERSION_EDITABLE = ("name", "display_name", "description", "code_source_url")


def update_pipeline(
    platform: Platform,
    pipeline_id: str,
    changes: dict[str, Any],
    *,
    principal: Principal = ADMIN,
) -> Pipeline:
    """Change the editable fields of a pipeline; other fields given must equal the stored
    ones (a client may send back the whole object)."""
    current = _writable_pipeline(platform, pipeline_id, principal)
    wanted = _editable_changes(current, changes, PIPELINE_EDITABLE, f"pipeline {pipeline_id!r}")
    return platform.store.update_pipeline(pipeline_id, **wanted) if wanted else current


def update_version(
    platform: Platform,
    pipeline_id: str,
    version_id: str,
    changes: dict[str, Any],
    *,
    principal: Principal = ADMIN,
) -> PipelineVersion:
    """Change the editable fields of a version (its spec never changes: add a version)."""
    current = _writable_version(platform, pipeline_id, version_id, principal)
    what = f"pipeline version {version_id!r}"
    wanted = _editable_changes(current, changes, VERSION_EDITABLE, what)
    return platform.store.update_pipeline_version(version_id, **wanted) if wanted else current


def _editable_changes(
    current: Pipeline | PipelineVersion,
    changes: dict[str, Any],
    editable: tuple[str, ...],
    what: str,
) -> dict[str, Any]:
    changes = {k: v for k, v in changes.items() if v is not None}
    fixed = sorted(
        key
        for key, value in changes.items()
        if key not in editable and value != getattr(current, key, None)
    )
    if fixed:
        raise UsageError(
            f"Cannot change {', '.join(fixed)} of {what}; only {', '.join(editable)} can change."
        )
    wanted = {k: v for k, v in changes.items() if k in editable and v != getattr(current, k)}
    if "name" in wanted and not str(wanted["name"]).strip():
        raise UsageError(f"The name of {what} cannot be empty.")
    return wanted


def fetch_package(url: str) -> ir.PipelineDocument:
    """The validated IR of the package at an http(s) URL (KFP's `package_url`)."""
    import httpx

    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(
            f"package_url {url!r} is not an http(s) URL; upload the file instead "
            "(POST /pipelines/upload_version)."
        )
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
            if response.status_code != 200:
                raise UsageError(
                    f"Fetching package_url {url!r} answered HTTP {response.status_code}."
                )
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_PACKAGE_BYTES:
                    raise UsageError(
                        f"The package at {url!r} is larger than {MAX_PACKAGE_BYTES} bytes."
                    )
    except httpx.HTTPError as e:
        raise UsageError(f"Cannot fetch package_url {url!r}: {e}") from None
    filename = httpx.URL(url).path.rsplit("/", 1)[-1] or "pipeline.yaml"
    return read_package(filename, bytes(data))


def delete_pipeline(platform: Platform, pipeline_id: str, *, principal: Principal = ADMIN) -> None:
    """Delete a pipeline with its versions (runs made from them stay)."""
    _writable_pipeline(platform, pipeline_id, principal)
    platform.store.delete_pipeline(pipeline_id)


def resolve_version(
    platform: Platform,
    *,
    pipeline_id: str | None = None,
    version_id: str | None = None,
    principal: Principal = ADMIN,
) -> PipelineVersion:
    """The pipeline version a reference names: `version_id` (which must be a version of
    `pipeline_id` when both are given), or else the latest version of `pipeline_id`.
    NotFound, naming what is missing, for an unknown pipeline or version, a version of
    another pipeline, a pipeline without versions, or one `principal` cannot see;
    UsageError when neither is given.

    Every place that turns a reference into a version (runs, recurring runs, the version
    routes) calls this one function.
    """
    if version_id:
        version = platform.store.get_pipeline_version(version_id)
        # Whether the caller may see it first: a version it may not see is one that does
        # not exist, whatever else the reference says.
        if not principal.admin:
            owner = platform.store.get_pipeline(version.pipeline_id)
            if not principal.visible(owner.namespace, shared=True):
                raise NotFound(f"No pipeline version with id {version_id!r}.")
        if pipeline_id and version.pipeline_id != pipeline_id:
            raise NotFound(f"Pipeline {pipeline_id!r} has no version with id {version_id!r}.")
        return version
    if not pipeline_id:
        raise UsageError(
            "A pipeline version reference needs a pipeline_version_id, or a pipeline_id "
            "(for its latest version); give one."
        )
    _visible_pipeline(platform, pipeline_id, principal)
    versions = platform.store.list_pipeline_versions(pipeline_id)
    if not versions:
        raise NotFound(f"Pipeline {pipeline_id!r} has no versions; upload one first.")
    return versions[-1]


def list_versions(
    platform: Platform, pipeline_id: str, query: ListQuery, *, principal: Principal = ADMIN
) -> Page[PipelineVersion]:
    _visible_pipeline(platform, pipeline_id, principal)
    return platform.store.page_pipeline_versions(pipeline_id, query)


def delete_version(
    platform: Platform, pipeline_id: str, version_id: str, *, principal: Principal = ADMIN
) -> None:
    _writable_version(platform, pipeline_id, version_id, principal)
    platform.store.delete_pipeline_version(version_id)


def _visible_pipeline(platform: Platform, pipeline_id: str, principal: Principal) -> Pipeline:
    """The pipeline, or NotFound worded as the store's for an unknown id when the caller
    may not see it (so another namespace's pipeline looks absent, not forbidden)."""
    pipeline = platform.store.get_pipeline(pipeline_id)
    if not principal.visible(pipeline.namespace, shared=True):
        raise NotFound(f"No pipeline with id {pipeline_id!r}.")
    return pipeline


def _writable_pipeline(platform: Platform, pipeline_id: str, principal: Principal) -> Pipeline:
    """The pipeline, once the caller may change it: NotFound as `_visible_pipeline`,
    Forbidden for a view token or a shared pipeline (the admin's to change)."""
    pipeline = _visible_pipeline(platform, pipeline_id, principal)
    principal.check_write(pipeline.namespace, f"pipeline {pipeline.name!r}")
    return pipeline


def _writable_version(
    platform: Platform, pipeline_id: str, version_id: str, principal: Principal
) -> PipelineVersion:
    version = resolve_version(
        platform, pipeline_id=pipeline_id, version_id=version_id, principal=principal
    )
    if not principal.admin:
        _writable_pipeline(platform, version.pipeline_id, principal)
    return version


def _load(load: Any, what: str) -> ir.PipelineDocument:
    try:
        document: ir.PipelineDocument = load()
    except DagyardError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as e:
        # Malformed input that slipped past the IR checks still gets a message, not a 500.
        raise IRError(f"{what} is not a valid PipelineSpec: {e}") from e
    return document


def _unpack(filename: str, data: bytes) -> tuple[str, bytes]:
    """The one pipeline file inside a .zip or .tar.gz package."""
    found: list[tuple[str, bytes]] = []
    try:
        if filename.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and _is_pipeline_file(info.filename):
                        if info.file_size > MAX_PACKAGE_BYTES:
                            raise UsageError(f"{info.filename!r} in {filename!r} is too large.")
                        found.append((info.filename, archive.read(info)))
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                for member in archive.getmembers():
                    if member.isfile() and _is_pipeline_file(member.name):
                        if member.size > MAX_PACKAGE_BYTES:
                            raise UsageError(f"{member.name!r} in {filename!r} is too large.")
                        extracted = archive.extractfile(member)
                        if extracted is not None:
                            found.append((member.name, extracted.read()))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise UsageError(f"Cannot open the archive {filename!r}: {e}") from None
    if len(found) != 1:
        names = ", ".join(name for name, _ in found) or "none"
        raise UsageError(
            f"The archive {filename!r} must hold exactly one pipeline file "
            f"(.yaml, .yml or .json); it holds: {names}."
        )
    return found[0]


def _is_pipeline_file(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml", ".json"))
