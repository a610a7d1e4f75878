"""The only code that does I/O: files, databases, HTTP clients."""
