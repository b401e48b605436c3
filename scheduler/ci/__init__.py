"""`mutagate ci github|gitlab`: the CI files for the per-PR gate and the nightly run, filled in from the
target project (its Python, its install, its `[tool.mutagate]` gate) and written without overwriting."""
