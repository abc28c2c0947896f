"""Schools' background work runs as portal jobs (see schools.excel.register_job_kinds)."""
