"""How CI installs mutagate: the pip requirement the generated files put in MUTAGATE_PIP.

mutagate is installed from wherever this copy came from, pinned to it, so CI runs the version that
wrote the files: a git install (pip's direct_url.json) gives `mutagate @ git+URL@COMMIT`; a clone with
a public remote (an editable install) gives the same from its remote and HEAD; otherwise the package
index, `mutagate==VERSION`. `--install SPEC` overrides it, and the files name it in one line."""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from mutator.git import GitError, git_text
from scheduler.provenance import TOOL_VERSION

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")  # git@github.com:o/r.git


def https_url(url: str) -> str | None:
    """A remote CI can clone without keys: https as is, ssh forms rewritten to https; local paths None."""
    if url.startswith("https://"):
        return url
    if url.startswith("ssh://"):
        rest = url.removeprefix("ssh://").split("@", 1)[-1]
        host, _, path = rest.partition("/")
        return f"https://{host.split(':')[0]}/{path}"
    match = _SCP.match(url)
    if match and "/" not in match["host"]:
        return f"https://{match['host']}/{match['path']}"
    return None


def _from_direct_url() -> str | None:
    try:
        text = distribution("mutagate").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    data = json.loads(text) if text else {}
    vcs = data.get("vcs_info", {})
    if vcs.get("vcs") == "git" and data.get("url"):
        return f"mutagate @ git+{data['url']}@{vcs['commit_id']}"
    return None


def _from_checkout() -> str | None:
    source = Path(__file__).resolve().parents[2]
    try:
        remote = git_text(source, "remote", "get-url", "origin").strip()
        commit = git_text(source, "rev-parse", "HEAD").strip()
    except GitError:
        return None
    url = https_url(remote)
    return f"mutagate @ git+{url}@{commit}" if url else None


def install_spec(override: str | None) -> tuple[str, str]:
    """The pip requirement and why it was chosen."""
    if override:
        return override, "--install"
    spec = _from_direct_url()
    if spec:
        return spec, "the git URL this mutagate was installed from"
    spec = _from_checkout()
    if spec:
        return spec, "the remote and commit of the clone this mutagate runs from"
    if TOOL_VERSION.startswith("0+"):
        return "mutagate", "the package index (this copy has no version)"
    return f"mutagate=={TOOL_VERSION}", ("the package index, pinned to this version; if mutagate comes from "
                                         "elsewhere, pass --install SPEC or edit MUTAGATE_PIP")
