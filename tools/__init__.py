"""Maintenance tools of the course: executing notebooks, rendering, generating exercises."""
