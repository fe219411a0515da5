"""RQ entry points. Each is thin: ids in, look up, call a portal service, commit."""
