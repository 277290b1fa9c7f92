"""The prober: probe workers, results and handlers (kubelet-spec.md §1-2)."""
