"""Typer commands: each parses arguments, calls app/, and prints."""
