"""`mutagate demo`: a small repository written by a human and three agents, some tests weak.

Built with real git commits (the agents' real signals: a co-author trailer, a bot author, an
`aider:` commit), so that the demo runs exactly the pipeline a user's repository would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HUMAN = ("Dana Dev", "dana@example.com")

STEPS: list[tuple[tuple[str, str], str, dict[str, str]]] = [
    (HUMAN, "Project skeleton", {
        "pyproject.toml": '[project]\nname = "shop"\nversion = "0.1.0"\n\n[tool.mutagate]\ntimeout-floor = 2\n',
        "shop/__init__.py": "",
        "shop/money.py": (
            "def cents(amount):\n"
            "    return round(amount * 100)\n"
        ),
        "tests/__init__.py": "",
        "tests/test_money.py": (
            "from shop.money import cents\n\n\n"
            "def test_cents():\n"
            "    assert cents(1.25) == 125\n"
        ),
    }),
    (HUMAN, "Add pricing rules\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
            "Co-Authored-By: Claude <noreply@anthropic.com>", {
        "shop/pricing.py": (
            "def discount_rate(quantity):\n"
            '    """Bulk discount: 10 % from 10 items, 20 % from 100."""\n'
            "    if quantity >= 100:\n"
            "        return 0.2\n"
            "    if quantity >= 10:\n"
            "        return 0.1\n"
            "    return 0.0\n\n\n"
            "def total(prices, quantity, coupon=None):\n"
            "    if not prices:\n"
            '        raise ValueError("an order needs at least one price")\n'
            "    subtotal = sum(prices) * quantity\n"
            "    subtotal -= subtotal * discount_rate(quantity)\n"
            "    if coupon is not None:\n"
            "        subtotal = max(subtotal - coupon, 0.0)\n"
            "    return round(subtotal, 2)\n"
        ),
        "tests/test_pricing.py": (
            "import pytest\n\n"
            "from shop.pricing import discount_rate, total\n\n\n"
            "def test_discount_boundaries():\n"
            "    assert discount_rate(9) == 0.0\n"
            "    assert discount_rate(10) == 0.1\n"
            "    assert discount_rate(99) == 0.1\n"
            "    assert discount_rate(100) == 0.2\n\n\n"
            "def test_total():\n"
            "    assert total([2.0, 3.0], 2) == 10.0\n"
            "    with pytest.raises(ValueError):\n"
            "        total([], 5)\n"
            "    assert total([10.0], 1, coupon=3.0) == 7.0\n"
            "    assert total([1.0], 1, coupon=5.0) == 0.0\n"
        ),
    }),
    (("Cursor Agent", "cursoragent@cursor.com"), "Inventory helpers", {
        "shop/inventory.py": (
            "def restock(levels, minimum):\n"
            "    low = [item for item, count in levels.items() if count < minimum]\n"
            "    return sorted(low)\n\n\n"
            "def reserve(levels, item, count):\n"
            "    available = levels.get(item, 0)\n"
            "    if count > available:\n"
            '        raise ValueError(f"only {available} {item} left")\n'
            "    levels[item] = available - count\n"
            "    return levels[item]\n"
        ),
        "tests/test_inventory.py": (
            "from shop.inventory import reserve, restock\n\n\n"
            "def test_restock_finds_something():\n"
            '    assert restock({"a": 1, "b": 50}, 10)\n\n\n'
            "def test_reserve():\n"
            '    assert reserve({"a": 5}, "a", 2) == 3\n'
        ),
    }),
    (("Dana Dev (aider)", "dana@example.com"), "aider: parse order lines", {
        "shop/orders.py": (
            "def parse_line(line):\n"
            '    name, _, qty = line.partition(",")\n'
            "    name = name.strip()\n"
            "    if not name:\n"
            "        return None\n"
            "    return name, int(qty or 1)\n\n\n"
            "def parse(text):\n"
            "    return [p for p in map(parse_line, text.splitlines()[1:]) if p]\n"
        ),
        "tests/test_orders.py": (
            "from shop.orders import parse\n\n\n"
            "def test_parse_skips_header():\n"
            '    assert parse("name,qty\\napple,2\\npear") == [("apple", 2), ("pear", 1)]\n'
        ),
    }),
    (HUMAN, "Tidy money rounding", {
        "shop/money.py": (
            "def cents(amount):\n"
            "    return int(round(amount * 100))\n"
        ),
    }),
]


def build_demo_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _git(root, HUMAN, "init", "-q", "-b", "main")
    for tick, (author, message, files) in enumerate(STEPS):
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        _git(root, author, "add", "-A")
        _git(root, author, "commit", "-q", "-m", message, date=f"2026-01-0{tick + 1}T12:00:00+00:00")
    return root


def _git(root: Path, who: tuple[str, str], *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1],
           "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1]}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=root, env=env, check=True,
                   capture_output=True)
