"""How CI installs mutagate: the pip requirement the generated files put in MUTAGATE_PIP.

mutagate is installed from wherever this copy came from, pinned to it, so CI runs the version that
wrote the files, by an install that works (`choose_install` has the order and why). `--install SPEC`
overrides it (refused unless it is one line without control characters: it is written into YAML and
shell), and the files name it, quoted, in one line."""

from __future__ import annotations

import json
import os
import re
import unicodedata
import urllib.error
import urllib.request
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from mutator.errors import BadInput
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
    if override is not None:
        return checked_spec(override), "--install"
    version = TOOL_VERSION
    return choose_install(version, _from_direct_url(), published_on_index(version) if _release(version) else False,
                          _from_checkout())


def choose_install(version: str, from_git: str | None, published: bool | None,
                   from_checkout: str | None) -> tuple[str, str]:
    """The decision, from what is known about this copy (each input measured by the caller):

    1. installed from a git URL (pip's direct_url.json): that URL at that commit — exactly this copy;
    2. this version is on the package index: `mutagate==VERSION`;
    3. a clone with a public remote: its remote at HEAD's commit;
    4. otherwise `mutagate==VERSION` all the same, saying that it will not install as it stands
       (not on the index, or the index could not be asked) and what to pass instead.
    `published`: True or False as the index answered, None when it could not be asked (offline)."""
    if from_git:
        return from_git, "the git URL this mutagate was installed from"
    if published and _release(version):
        return f"mutagate=={version}", "the package index, where this version is published"
    if from_checkout:
        return from_checkout, ("the remote and commit of the clone this mutagate runs from"
                               + ("" if published is None else f" (mutagate {version} is not on the package index)"))
    if not _release(version):
        return "mutagate", ("could not infer: this copy has no version, no git origin and no public remote; "
                            "pass --install SPEC (a wheel URL, a git URL) or edit MUTAGATE_PIP")
    said = "is not published on the package index" if published is False else "could not be checked on the package index"
    return f"mutagate=={version}", (f"could not infer a working install: mutagate {version} {said}, and this copy "
                                    "has no public git remote; pass --install SPEC (a wheel URL, a git URL) or edit "
                                    "MUTAGATE_PIP")


def _release(version: str) -> bool:
    return not version.startswith("0+")


INDEX_URL = "https://pypi.org/pypi"  # the JSON API of the index CI's pip uses by default


def published_on_index(version: str, timeout: float = 3.0) -> bool | None:
    """Whether `mutagate==version` is on the package index (MUTAGATE_INDEX_URL overrides the JSON API's
    base; `off` skips the question): True, False, or None when it could not be asked."""
    base = os.environ.get("MUTAGATE_INDEX_URL", INDEX_URL)
    if base == "off":
        return None
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/mutagate/{version}/json", timeout=timeout) as answer:
            return answer.status == 200
    except urllib.error.HTTPError as exc:
        return False if exc.code == 404 else None
    except (OSError, ValueError):
        return None


def checked_spec(spec: str) -> str:
    """An --install value CI can carry as one quoted YAML scalar and one shell word: one line, no
    control characters (a newline would start a new line of the workflow: `run: ...`)."""
    if not spec.strip():
        raise BadInput("--install is empty; give a pip requirement such as 'mutagate==0.3.0'")
    bad = next((c for c in spec if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise BadInput(f"--install must be one pip requirement on one line; it holds the control character {bad!r}")
    return spec
