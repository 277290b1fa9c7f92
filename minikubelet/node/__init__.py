"""The node daemon's life cycle, seen from outside the daemon.

Everything a command needs to find, start, reach and stop the background node lives here, so the CLI and the
daemon agree on one layout of the state directory (`paths`), one set of TLS credentials (`tls`), one way to
describe the API endpoint to clients and kubectl (`kubeconfig`) and one protocol for starting and stopping the
process (`process`). Nothing here prints: callers get values or `MinikubeletError`s.
"""
