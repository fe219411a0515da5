"""SMTP configurations: org and personal SMTP servers, tested for real."""
