"""`minikubelet simulate`: the real kubelet and prober code run on a simulated runtime and a virtual clock, with each
container's behaviour over time described in a small language (behaviour.py) that can also be acted out by a real
busybox container (script.py)."""
