"""Values derived from the answers, computed once for every template file."""

import re
from typing import Any

from copier_template_extensions import ContextHook

# Where a template that lives on GitHub or GitLab shows a file of a commit: {repository}, {ref}.
_FILE_PAGES = {
    "github.com": "https://github.com/{repository}/blob/{ref}",
    "gitlab.com": "https://gitlab.com/{repository}/-/blob/{ref}",
}
_SHORTCUTS = {"gh:": "github.com", "gl:": "gitlab.com"}
# `owner/name` after the host of an https:// or git@ address, `.git` and slashes dropped.
_REPOSITORY = re.compile(r"^(?:https://|git@)(?P<host>[^/:]+)[/:](?P<repository>.+?)(?:\.git)?/?$")
# What copier records as the commit of a render between tags: `1.2.0-3-g1a2b3c4`.
_BETWEEN_TAGS = re.compile(r"-\d+-g(?P<sha>[0-9a-f]+)$")

# The uv that the rendered Dockerfile installs and the rendered CI runs: one version for both,
# so the image and CI read uv.lock alike, and neither takes whatever uv is newest that day.
UV_VERSION = "0.13.9"
# PyPI's sha256 of that release's wheels for the Linux machines images are built on (x86_64;
# aarch64, whose newer glibc picks the manylinux_2_28 wheel): pip's --require-hashes installs
# nothing else, so a replaced file on the index fails the build instead of entering the image.
# A new UV_VERSION needs its own: `pip download uv==X.Y.Z --no-deps --only-binary=:all:
# --platform ...` for each platform, then sha256sum, or the hashes PyPI's file list shows.
UV_WHEEL_SHA256 = (
    "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",  # manylinux_2_17_x86_64
    "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",  # manylinux_2_17_aarch64
    "ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375",  # manylinux_2_28_aarch64
)


def repository_of(source: str) -> tuple[str, str]:
    """(host, owner/name) of a template's git address, or ("", "") for a local path."""
    host, repository = "", ""
    for shortcut, shortcut_host in _SHORTCUTS.items():
        if source.startswith(shortcut):
            host, repository = shortcut_host, source.removeprefix(shortcut).removesuffix(".git")
    if match := _REPOSITORY.match(source):
        host, repository = match["host"], match["repository"]
    return host, repository


def repository_page(source: str) -> str:
    """The web page of the repository at a git address, or "" for a local path."""
    host, repository = repository_of(source)
    return f"https://{host}/{repository}" if host else ""


def template_docs(source: Any, commit: Any) -> str:
    """The address of the template's docs/ folder at the rendered commit, or "" when the
    template does not come from GitHub or GitLab (a local path, another host)."""
    if not isinstance(source, str) or not isinstance(commit, str) or not commit:
        return ""
    host, repository = repository_of(source)
    if host not in _FILE_PAGES:
        return ""
    between = _BETWEEN_TAGS.search(commit)
    ref = between["sha"] if between else commit
    return _FILE_PAGES[host].format(repository=repository, ref=ref) + "/docs"


class DerivedValues(ContextHook):
    """Adds names and flags that several rendered files need to agree on."""

    def hook(self, context: dict[str, Any]) -> None:
        # The hook also runs while question defaults are rendered, before later
        # answers exist: derive only what the present answers allow.
        slug = context.get("project_slug")
        if isinstance(slug, str) and slug:
            identifier = slug.replace("-", "_")
            context["database_name"] = identifier
            context["image_name"] = slug
        store = context.get("rate_limit_store")
        if store is not None:
            context["use_redis"] = store == "redis"
        tracing = context.get("tracing")
        if tracing is not None:
            context["use_tracing"] = tracing == "opentelemetry"
        origins = context.get("cors_origins")
        if isinstance(origins, list):
            context["cors_origins_list"] = [str(origin) for origin in origins]
            # What a deployment may keep of them: production refuses null and http://.
            context["cors_origins_https"] = [
                str(origin) for origin in origins if str(origin).startswith("https://")
            ]
        context["uv_version"] = UV_VERSION
        context["uv_wheel_sha256"] = list(UV_WHEEL_SHA256)
        # The template's documentation pages, for the rendered README to point at.
        recorded = context.get("_copier_answers") or {}
        context["template_docs"] = template_docs(recorded.get("_src_path"), recorded.get("_commit"))
