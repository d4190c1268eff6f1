"""Reports: results.json (the source of truth), a readable summary, and tables."""
