"""mkdocs hook: the diagrams' library served by the site itself, so that pages read offline.

The theme draws ```mermaid blocks with mermaid, which it fetches from a CDN unless the page
has it already. This hook takes a pinned release from the npm registry (checked against
the registry's digest, cached between builds), adds its script and licence to the site,
and puts the script on the pages that have a diagram, ahead of the theme's own script.
It also lays every sequence diagram out for the page's width (SEQUENCE_LAYOUT).
"""

import base64
import hashlib
import io
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

# The major the theme is written for (it asks the CDN for mermaid@11), newest release.
VERSION = "11.17.2"
TARBALL = f"https://registry.npmjs.org/mermaid/-/mermaid-{VERSION}.tgz"
# The registry's `dist.integrity` of that tarball.
INTEGRITY = (
    "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh4"
    "7lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="
)
MEMBERS = {"package/dist/mermaid.min.js": "mermaid.min.js", "package/LICENSE": "LICENSE"}
SITE_FOLDER = "assets/mermaid"
SCRIPT = f"{SITE_FOLDER}/mermaid.min.js"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "template-docs"
DIAGRAM = 'class="mermaid"'
SEQUENCE = "```mermaid\nsequenceDiagram\n"
# Mermaid's sequence diagrams at the page's width: messages wrap within the space between
# two actors, and actors are narrower than mermaid's 150 px, so that five fit with text of
# 12 px or more (tests/deep/test_site.py measures it).
SEQUENCE_LAYOUT = """---
config:
  sequence:
    wrap: true
    width: 130
    actorMargin: 30
---
"""


def _release() -> Path:
    """The release's script and licence, from the cache or the registry."""
    folder = CACHE / f"mermaid-{VERSION}"
    if all((folder / name).exists() for name in MEMBERS.values()):
        return folder
    with urllib.request.urlopen(TARBALL, timeout=120) as response:
        tarball = response.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != INTEGRITY:
        raise RuntimeError(f"{TARBALL}: digest {digest}, the registry said {INTEGRITY}")
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for member, name in MEMBERS.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise RuntimeError(f"{TARBALL} has no file {member}")
            (partial / name).write_bytes(extracted.read())
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)
    return folder


def on_files(files: Files, config: MkDocsConfig) -> Files:
    release = _release()
    for name in MEMBERS.values():
        content = (release / name).read_bytes()
        files.append(File.generated(config, f"{SITE_FOLDER}/{name}", content=content))
    return files


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Every sequence diagram laid out for the page's width."""
    return markdown.replace(SEQUENCE, f"```mermaid\n{SEQUENCE_LAYOUT}sequenceDiagram\n")


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if DIAGRAM not in output:
        return output
    source = get_relative_url(SCRIPT, page.url)
    return output.replace("</head>", f'<script src="{source}"></script></head>', 1)
