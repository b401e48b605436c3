"""The weak-tests dashboard: its data (data.py), the static site (site.py) and the live server (server.py)."""
