"""Build real git repositories inside tests: real commits, authors, trailers, merges, renames."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

HUMAN = ("Dana Dev", "dana@example.com")


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tick = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", HUMAN[0])
        self.git("config", "user.email", HUMAN[1])
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env=full_env)
        if proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
        return target

    def commit(
        self,
        message: str,
        author: tuple[str, str] = HUMAN,
        committer: tuple[str, str] | None = None,
        files: dict[str, str] | None = None,
    ) -> str:
        for path, text in (files or {}).items():
            self.write(path, text)
        self.git("add", "-A")
        committer = committer or author
        self._tick += 1
        date = f"2026-01-01T00:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()
