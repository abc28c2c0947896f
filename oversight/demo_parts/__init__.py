"""seed_demo data for oversight, one module per part (called in this order by oversight/demo.py)."""
