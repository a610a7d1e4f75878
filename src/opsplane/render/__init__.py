"""Domain -> artefacts as data: Prometheus rule files, Grafana dashboards. No I/O here."""
