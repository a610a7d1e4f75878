"""Use cases that combine spec, domain and render; no HTTP or CLI concepts here."""
