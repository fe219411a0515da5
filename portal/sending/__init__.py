"""The send pipeline: accept, route, deliver, retry, fall back, and record every step."""
