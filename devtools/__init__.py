"""Developer commands behind the Makefile: migrate, run, token."""
