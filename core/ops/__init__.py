"""Operating the service, the same for every API: liveness and readiness probes, and
Prometheus metrics counted across every process of a node (specs/ops.yaml)."""
