"""What it found: DuckDB store and views, reports, badge, gate."""
